/** People as compliance answers show them, and their certificates grouped by person: shared by every kind of answer. */
import type { Certificate } from '../domain/certificate.ts';

export interface PersonRef {
  id: string;
  name: string | null;
  /** The primary email (the first one recorded), or null. */
  email: string | null;
}

/** The certificates of each person, in the order read; certificates not linked to a person are left out. */
export function certificatesByPerson(certificates: readonly Certificate[]): Map<string, Certificate[]> {
  const byPerson = new Map<string, Certificate[]>();
  for (const cert of certificates) {
    if (cert.person_id === null) continue;
    const list = byPerson.get(cert.person_id);
    if (list === undefined) byPerson.set(cert.person_id, [cert]);
    else list.push(cert);
  }
  return byPerson;
}
