import { describe, expect, it } from 'vitest';
import type { CertificateSubject } from './certificate.ts';
import {
  identityKeys,
  isValidNorwegianNationalId,
  matchableNationalId,
  nameDobKey,
  normalizeEmail,
  normalizeName,
  normalizeNationalId,
} from './identity.ts';
import { maskNationalId } from './person.ts';
import { findProvider } from '../providers/registry.ts';

// Built with both mod-11 control digits (the same algorithm the simulators use).
const VALID_FNR = '01019012138';

describe('normalizeEmail', () => {
  it('trims and lower-cases', () => {
    expect(normalizeEmail('  John.Doe@Example.COM ')).toBe('john.doe@example.com');
  });
  it('gives null for empty or invalid values', () => {
    for (const bad of [null, undefined, '', '   ', 'john', 'john@', '@example.com', 'john@example', 'jo hn@example.com']) {
      expect(normalizeEmail(bad)).toBeNull();
    }
  });
});

describe('normalizeName', () => {
  it('folds Nordic letters and diacritics, lower-cases and collapses whitespace', () => {
    expect(normalizeName('  Bjørn   Ærø-Åsen ')).toBe('bjorn aero-asen');
    expect(normalizeName('José Müller')).toBe('jose muller');
    expect(normalizeName('STRAßE')).toBe('strasse');
    expect(normalizeName('Øystein\tGrønn')).toBe('oystein gronn');
  });
  it('makes the same name written differently equal', () => {
    expect(normalizeName('Ærlig Ødegård')).toBe(normalizeName('aerlig  odegard'));
  });
  it('folds compatibility characters (NFKD)', () => {
    expect(normalizeName('ﬁnn')).toBe('finn');
  });
  it('gives null when nothing is left', () => {
    expect(normalizeName('   ')).toBeNull();
    expect(normalizeName(null)).toBeNull();
  });
});

describe('national ids', () => {
  it('keeps digits only', () => {
    expect(normalizeNationalId(' 010190 121-38 ')).toBe(VALID_FNR);
    expect(normalizeNationalId('abc')).toBeNull();
  });

  it('validates Norwegian fødselsnummer checksums', () => {
    expect(isValidNorwegianNationalId(VALID_FNR)).toBe(true);
    expect(isValidNorwegianNationalId('01019012139')).toBe(false); // second control digit wrong
    expect(isValidNorwegianNationalId('01019012148')).toBe(false); // first control digit wrong
    expect(isValidNorwegianNationalId('0101901213')).toBe(false); // 10 digits
    expect(isValidNorwegianNationalId('0101901213a')).toBe(false);
  });

  it('accepts D-numbers and rejects impossible dates', () => {
    expect(isValidNorwegianNationalId('41019012040')).toBe(true); // D-number: day + 40
    expect(isValidNorwegianNationalId('32139012037')).toBe(false); // checksums fine, 32nd of the 13th month
  });

  it('only matches on 11-digit numbers that pass the checksum', () => {
    expect(matchableNationalId('010190 12138')).toBe(VALID_FNR);
    expect(matchableNationalId('01019012139')).toBeNull();
    expect(matchableNationalId('19900101-1234')).toBe('199001011234'); // foreign (12 digits) kept
    expect(matchableNationalId('123')).toBeNull();
  });

  it('masks for display', () => {
    expect(maskNationalId(VALID_FNR)).toBe('*********38');
    expect(maskNationalId(VALID_FNR)).not.toContain('010190');
  });
});

describe('identityKeys', () => {
  const subject: CertificateSubject = {
    provider_user_id: ' 289252 ',
    email: 'John.Doe@Example.com',
    first_name: 'Jøhn',
    last_name: ' Doe ',
    date_of_birth: '1990-01-01',
    national_id: '010190 12138',
  };

  it('builds every key the subject offers, provider ids scoped to the source', () => {
    expect(identityKeys(subject, findProvider('frontcore')!, 'frontcore-main')).toEqual([
      { kind: 'national_id', value: VALID_FNR, source_id: null },
      { kind: 'email', value: 'john.doe@example.com', source_id: null },
      { kind: 'provider_user', value: '289252', source_id: 'frontcore-main' },
      { kind: 'name_dob', value: 'john doe|1990-01-01', source_id: null },
    ]);
  });

  it('leaves out what is missing or unusable', () => {
    const sparse: CertificateSubject = {
      provider_user_id: null,
      email: 'not-an-email',
      first_name: 'Ann',
      last_name: null,
      date_of_birth: null,
      national_id: '01019012139',
    };
    expect(identityKeys(sparse, findProvider('springest')!, 'springest-nl')).toEqual([]);
  });

  it('gives the name + date of birth key a status check by full name looks up', () => {
    const key = identityKeys(subject, findProvider('frontcore')!, 'frontcore-main').find((k) => k.kind === 'name_dob')?.value;
    expect(key).toBe('john doe|1990-01-01');
    expect(nameDobKey('JOHN  Døe', '1990-01-01')).toBe(key);
    expect(nameDobKey('Jøhn Doe', ' 1990-01-01 ')).toBe(key);
    expect(nameDobKey('  ', '1990-01-01')).toBeNull();
    expect(nameDobKey('John Doe', '01.01.1990')).toBeNull();
  });

  it('treats Open edX usernames case-insensitively', () => {
    const edx: CertificateSubject = { ...subject, provider_user_id: 'JDoe', national_id: null };
    expect(identityKeys(edx, findProvider('openedx')!, 'edx').find((k) => k.kind === 'provider_user')?.value).toBe('jdoe');
  });
});
