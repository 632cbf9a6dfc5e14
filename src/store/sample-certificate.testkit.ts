import type { NormalizedCertificate } from '../domain/certificate.ts';

/** A normalized certificate for tests (no vitest here: child processes of tests use it too); `n` varies the ids. */
export function sampleCertificate(
  n: number,
  overrides: Partial<NormalizedCertificate> = {},
): NormalizedCertificate {
  return {
    external_id: `ext-${n}`,
    status: 'awarded',
    subject: {
      provider_user_id: `u-${n}`,
      email: `person${n}@example.com`,
      first_name: 'Kari',
      last_name: `Nordmann ${n}`,
      date_of_birth: '1990-01-15',
    },
    achievement: { type: 'course', external_id: 'SAFE-101', title: 'Safety Training', code: 'SAFE-101' },
    issued_at: '2024-02-15T15:30:00.000Z',
    valid_from: '2024-02-15',
    valid_until: null,
    serial: `2024-SAFE-${n}`,
    file: { available: true },
    raw: { id: n, name: 'Safety Training', participant: { user_id: `u-${n}` } },
    ...overrides,
  };
}
