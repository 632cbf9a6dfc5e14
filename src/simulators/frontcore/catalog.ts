/**
 * FrontCore's fixed reference data: the course catalog, training locations, customer companies and
 * the small vocabularies (positions, notes) the generated records pick from by index.
 */

export interface CourseSpec {
  title: string;
  reference: string;
  /** Course days per coursedate. */
  days: number;
  /** Relative popularity when people enrol. */
  weight: number;
}

export const COURSE_SPECS: readonly CourseSpec[] = [
  { title: 'Safety Training Course', reference: 'SAFE-101', days: 1, weight: 10 },
  { title: 'Advanced Safety Leadership', reference: 'SAFE-201', days: 2, weight: 3 },
  { title: 'HMS grunnkurs', reference: 'HMS-110', days: 1, weight: 9 },
  { title: 'HMS for ledere', reference: 'HMS-210', days: 3, weight: 3 },
  { title: 'Brannvern og slokking', reference: 'FIRE-201', days: 1, weight: 6 },
  { title: 'Brannvernleder', reference: 'FIRE-301', days: 2, weight: 2 },
  { title: 'Førstehjelp grunnkurs', reference: 'FIRST-AID-1', days: 1, weight: 8 },
  { title: 'Førstehjelp med hjertestarter (AED)', reference: 'FIRST-AID-2', days: 1, weight: 4 },
  { title: 'Arbeid i høyden', reference: 'HEIGHT-120', days: 2, weight: 4 },
  { title: 'Truck og løfteutstyr (T1-T4)', reference: 'TRUCK-T14', days: 3, weight: 3 },
  { title: 'Varme arbeider', reference: 'HOTWORK-1', days: 1, weight: 4 },
  { title: 'Elsikkerhet FSE', reference: 'FSE-2025', days: 1, weight: 5 },
  { title: 'Stillasmontør – bruker', reference: 'SCAF-101', days: 2, weight: 2 },
  { title: 'Kjemikaliehåndtering', reference: 'CHEM-110', days: 1, weight: 3 },
  { title: 'Personvern og GDPR', reference: 'GDPR-100', days: 1, weight: 3 },
];

export interface LocationSpec {
  id: number;
  title: string;
  address: string;
  zipcode: string;
  city: string;
  country: string;
  weight: number;
}

export const LOCATIONS: readonly LocationSpec[] = [
  { id: 5678, title: 'Training Center Oslo', address: 'Example Street 123', zipcode: '0150', city: 'Oslo', country: 'NO', weight: 6 },
  { id: 5679, title: 'Kurssenter Økern', address: 'Økernveien 94', zipcode: '0579', city: 'Oslo', country: 'NO', weight: 4 },
  { id: 5683, title: 'Bjørvika Konferansesenter', address: 'Dronning Eufemias gate 16', zipcode: '0191', city: 'Oslo', country: 'NO', weight: 3 },
  { id: 5690, title: 'Øvingsfeltet Alnabru', address: 'Strømsveien 266', zipcode: '0668', city: 'Oslo', country: 'NO', weight: 2 },
  { id: 5702, title: 'Skøyen Kurslokaler', address: 'Karenslyst allé 9', zipcode: '0278', city: 'Oslo', country: 'NO', weight: 2 },
  { id: 5711, title: 'Kurssenter Bergen', address: 'Kokstadvegen 23', zipcode: '5257', city: 'Bergen', country: 'NO', weight: 1 },
  { id: 5720, title: 'Trondheim Sikkerhetssenter', address: 'Sluppenvegen 10', zipcode: '7037', city: 'Trondheim', country: 'NO', weight: 1 },
];

export interface CustomerSpec {
  id: number;
  name: string;
  /** Email domain of its employees: users with a work address there belong to it. */
  domain: string | null;
  contact: { firstname: string; lastname: string; email: string; phone: string };
}

export const CUSTOMERS: readonly CustomerSpec[] = [
  { id: 3001, name: 'Acme AS', domain: 'acme.no', contact: { firstname: 'Hilde', lastname: 'Vik', email: 'kurs@acme.no', phone: '+47 22 11 00 01' } },
  { id: 3002, name: 'Nordlys Energi AS', domain: 'nordlys.no', contact: { firstname: 'Terje', lastname: 'Ås', email: 'hr@nordlys.no', phone: '+47 22 11 00 02' } },
  { id: 3003, name: 'Fjordkraft Demo AS', domain: 'fjordkraft-demo.no', contact: { firstname: 'Marit', lastname: 'Øien', email: 'opplaering@fjordkraft-demo.no', phone: '+47 55 11 00 03' } },
  { id: 3007, name: 'Example Consulting ASA', domain: 'example.com', contact: { firstname: 'Jon', lastname: 'Eksempel', email: 'training@example.com', phone: '+47 23 11 00 07' } },
  { id: 3011, name: 'Bygg & Anlegg Øst AS', domain: null, contact: { firstname: 'Rune', lastname: 'Bakke', email: 'post@bygganlegg-ost.no', phone: '+47 64 11 00 11' } },
  { id: 3012, name: 'Sjøsikkerhet Vest AS', domain: null, contact: { firstname: 'Gunn', lastname: 'Helle', email: 'kurs@sjosikkerhet.no', phone: '+47 56 11 00 12' } },
];

/** Index 0 means `position: null`. */
export const POSITIONS: readonly (string | null)[] = [null, 'Developer', 'Electrician', 'Project Manager', 'Operator', 'HSE Advisor', 'Carpenter', 'Warehouse Worker', 'Nurse', 'Team Lead', 'Engineer'];

/** Index 0 means `nationality: null`. */
export const NATIONALITIES: readonly (string | null)[] = [null, 'NO', 'SE', 'DK', 'PL', 'LT', 'DE'];

/** Index 0 means `passed_note: null`. The last one goes with `is_passed: false` (a participation diploma). */
export const PASSED_NOTES: readonly (string | null)[] = [null, 'Excellent performance', 'Bestått', 'Bestått praktisk og teoretisk prøve', 'Good effort', 'Deltatt'];
export const PARTICIPATION_NOTE = PASSED_NOTES.length - 1;
