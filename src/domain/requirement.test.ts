import { describe, expect, it } from 'vitest';
import type { Certificate } from './certificate.ts';
import { addMonths, bestStanding, effectiveValidUntil, evaluateRequirement, requirementRuleSchema } from './requirement.ts';

function cert(overrides: Partial<Certificate> & { code?: string; external_id_ach?: string }): Certificate {
  const { code, external_id_ach, ...rest } = overrides;
  return {
    id: 'c1',
    source: 'frontcore-main',
    provider: 'frontcore',
    external_id: 'x1',
    status: 'awarded',
    validity: 'valid',
    person_id: 'p1',
    subject: { provider_user_id: null, email: null, first_name: null, last_name: null, date_of_birth: null },
    achievement: { type: 'course', external_id: external_id_ach ?? '44724', title: 'Safety', code: code ?? 'SAFE-101' },
    issued_at: '2024-02-15T10:00:00Z',
    valid_from: '2024-02-15',
    valid_until: null,
    serial: null,
    file: { available: false, sha256: null },
    first_seen_at: '2024-02-15T10:00:00Z',
    updated_at: '2024-02-15T10:00:00Z',
    last_seen_at: '2024-02-15T10:00:00Z',
    ...rest,
  };
}

const safety = requirementRuleSchema.parse({
  any_of: [{ provider: 'frontcore', code: 'SAFE-101' }, { provider: 'springest', type: 'certification', external_id: '42' }],
  valid_months_without_end: 24,
  warn_days: 30,
});

describe('requirements', () => {
  it('adds months the calendar way, clamping to the end of short months', () => {
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonths('2023-01-31', 1)).toBe('2023-02-28');
    expect(addMonths('2024-02-15', 24)).toBe('2026-02-15');
    expect(addMonths('2024-11-30', 3)).toBe('2025-02-28');
  });

  it('counts a certificate without an end date for valid_months_without_end from its start, inclusive', () => {
    expect(effectiveValidUntil(cert({}), 24)).toBe('2026-02-14');
    expect(effectiveValidUntil(cert({}), null)).toBeNull();
    expect(effectiveValidUntil(cert({ valid_until: '2025-01-01' }), 24)).toBe('2025-01-01');
    // No valid_from: the issue date in Oslo (23:30 UTC on 14 Feb is 15 Feb there).
    expect(effectiveValidUntil(cert({ valid_from: null, issued_at: '2024-02-14T23:30:00Z' }), 12)).toBe('2025-02-14');
  });

  it('is compliant, then expiring inside the warning window, then expired after the last day (Oslo days)', () => {
    const c = [cert({})];
    expect(evaluateRequirement(c, safety, { at: new Date('2025-06-01T12:00:00Z') }).state).toBe('compliant');
    expect(evaluateRequirement(c, safety, { at: new Date('2026-01-16T12:00:00Z') }).state).toBe('expiring');
    expect(evaluateRequirement(c, safety, { at: new Date('2026-02-14T22:59:00Z') }).state).toBe('expiring');
    expect(evaluateRequirement(c, safety, { at: new Date('2026-02-14T23:00:00Z') }).state).toBe('expired');
  });

  it('takes the best certificate of any listed achievement and ignores the others', () => {
    const old = cert({ id: 'old', valid_until: '2020-01-01' });
    const spring = cert({ id: 'sp', provider: 'springest', source: 'springest-nl', achievement: { type: 'certification', external_id: '42', title: 'Safety', code: null }, valid_until: '2030-01-01' });
    const other = cert({ id: 'other', code: 'FIRE-1', valid_until: '2040-01-01' });
    const s = evaluateRequirement([old, other, spring], safety, { at: new Date('2025-01-01T12:00:00Z') });
    expect(s).toMatchObject({ state: 'compliant', valid_until: '2030-01-01' });
    expect(s.certificate?.id).toBe('sp');
    expect(evaluateRequirement([other], safety, { at: new Date('2025-01-01T12:00:00Z') })).toMatchObject({ state: 'missing', certificate: null });
  });

  it('reports revoked for a status check, which a requirement counts as missing; pending and deleted do not count', () => {
    const at = new Date('2025-01-01T12:00:00Z');
    const revoked = cert({ status: 'revoked' });
    expect(bestStanding([revoked], safety.any_of, { at, warnDays: 30, validMonthsWithoutEnd: null }).standing).toBe('revoked');
    expect(evaluateRequirement([revoked], safety, { at }).state).toBe('missing');
    expect(evaluateRequirement([cert({ status: 'pending' }), cert({ status: 'deleted' })], safety, { at }).state).toBe('missing');
    expect(evaluateRequirement([cert({ valid_from: '2025-06-01' })], safety, { at }).state).toBe('missing');
  });

  it('refuses a matcher that names no achievement', () => {
    expect(requirementRuleSchema.safeParse({ any_of: [{ provider: 'frontcore' }] }).success).toBe(false);
    expect(requirementRuleSchema.safeParse({ any_of: [] }).success).toBe(false);
    expect(requirementRuleSchema.parse({ any_of: [{ code: 'X' }] })).toEqual({ any_of: [{ code: 'X' }], valid_months_without_end: null, warn_days: 30 });
  });
});
