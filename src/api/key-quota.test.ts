/** Finding 18 of issue 13: the per-key quota counts what a request costs, not one unit per call. */
import { describe, expect, it } from 'vitest';
import { createTestHub } from './app.testkit.ts';
import { chargeExportRows } from './csv-answer.ts';
import { createKeyRateLimiter, statusCost } from './key-quota.ts';

/** A clock that stands still until moved: the bucket refills only when the test says. */
function pinnedClock(start = Date.parse('2026-06-02T10:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

const people = (n: number) => ({ people: Array.from({ length: n }, (_, i) => ({ email: `person${i}@example.com` })) });

describe('finding 18: quota weighted by cost', () => {
  it('finding 18: a 10,000-person bulk costs 100 units: three spend a 300-unit quota, and the next is a 429 with Retry-After in the error shape', async () => {
    const clock = pinnedClock();
    // 300 units, refilled at one a second of the pinned clock.
    const hub = await createTestHub({ rateLimit: { requests: 300, perSeconds: 300 }, now: clock.now });
    try {
      expect(statusCost(10_000, false)).toBe(100);
      for (let i = 0; i < 3; i++) {
        const res = await hub.call('POST', '/v1/status/bulk', { key: hub.a.readKey, body: people(10_000) });
        expect(res.statusCode, `bulk ${i + 1}`).toBe(200);
      }
      const refused = await hub.call('POST', '/v1/status/bulk', { key: hub.a.readKey, body: people(10_000) });
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/retry in \d+ s/) } });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // The other tenant's key has its own quota.
      expect((await hub.call('GET', '/v1/me', { key: hub.b.readKey })).statusCode).toBe(200);
    } finally {
      await hub.close();
    }
  }, 60_000);

  it('finding 18: ?live=true costs 10 more, and a request that costs more than is left is told to wait as long as its cost says', async () => {
    const clock = pinnedClock();
    const hub = await createTestHub({ rateLimit: { requests: 300, perSeconds: 300 }, now: clock.now });
    try {
      for (let i = 0; i < 2; i++) expect((await hub.call('POST', '/v1/status/bulk', { key: hub.a.readKey, body: people(10_000) })).statusCode).toBe(200);
      // 100 units left: the key check takes 1, and the live bulk needs 109 more: 10 short at one unit a second.
      expect(statusCost(10_000, true)).toBe(110);
      const refused = await hub.call('POST', '/v1/status/bulk?live=true', { key: hub.a.readKey, body: people(10_000) });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('10');
      expect(refused.json().error).toEqual({ code: 'rate_limited', message: expect.stringContaining('costs 110 units') });
      // A small request still fits, and once the clock has moved on the live bulk is let through to its own check.
      expect((await hub.call('POST', '/v1/status/bulk', { key: hub.a.readKey, body: people(50) })).statusCode).toBe(200);
      clock.advance(120_000);
      expect((await hub.call('POST', '/v1/status/bulk?live=true', { key: hub.a.readKey, body: people(10_000) })).statusCode).not.toBe(429);
    } finally {
      await hub.close();
    }
  }, 60_000);

  it('finding 18: an export is charged by its rows as it streams (the bucket may go into debt), and a cost above the bucket goes ahead only on a full one', () => {
    let t = 0;
    const limiter = createKeyRateLimiter({ requests: 10, perSeconds: 10 }, () => t);
    const charge = chargeExportRows((units) => limiter.spend('k', units), 1000);
    charge(999);
    expect(limiter.take('k', 10)).toBe(0); // the first 1,000 rows are the call's own unit
    t += 10_000;
    charge(1); // row 1,000
    charge(1); // row 1,001: one unit
    charge(25_000); // rows to 26,001: 25 more units, 16 of them debt
    expect(limiter.take('k')).toBe(17);
    t += 17_000;
    expect(limiter.take('k')).toBe(0);
    t += 60_000;
    expect(limiter.take('k', 50)).toBe(0);
    expect(limiter.take('k')).toBeGreaterThan(0);
  });
});
