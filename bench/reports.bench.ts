/**
 * Reads at a million certificates (issue: "answers fast at a million certificates"): one page of the certificate
 * list, of the expiring report, of a requirement's compliance, and one person page, over HTTP (app.inject), against
 * a raw baseline measured in the same run: one indexed SELECT of 100 certificate rows (better-sqlite3, no parsing).
 *
 *   npm run bench reports                      # 100,000 people x 10 certificates
 *   BENCH_PEOPLE=20000 npm run bench reports
 */
import Database from 'better-sqlite3';
import { best, withMillionStore } from './million.ts';
import { courseCode, personId } from '../src/compliance/bulk-fixture.testkit.ts';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const NOW = new Date('2025-06-01T10:00:00Z');

async function main(): Promise<void> {
  await withMillionStore('reports', PEOPLE, NOW, async (hub, file) => {
    const requirement = await hub.store.requirements.createRequirement(hub.a.id, {
      name: 'Bench',
      rule: { any_of: [{ code: courseCode(3) }], valid_months_without_end: 24, warn_days: 30 },
    });

    const raw = new Database(file, { readonly: true });
    const select = raw.prepare('select * from certificates where tenant_id = ? order by updated_at, id limit 100');
    const baselineMs = await best(ROUNDS, () => select.all(hub.a.id));
    raw.close();

    const get = (url: string) => async () => {
      const res = await hub.call('GET', url, { key: hub.a.readKey });
      if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`);
    };
    const cases: Array<[string, string]> = [
      ['GET /v1/certificates (100)', '/v1/certificates?limit=100'],
      ['GET /v1/certificates?validity=valid (100)', '/v1/certificates?limit=100&validity=valid'],
      ['GET /v1/reports/expiring?days=30 (100)', '/v1/reports/expiring?days=30&limit=100'],
      ['GET /v1/people/{id}', `/v1/people/${personId(PEOPLE >> 1)}`],
      ['GET /v1/requirements/{id}/compliance (100)', `/v1/requirements/${requirement.id}/compliance?limit=100`],
    ];
    console.log(`baseline indexed SELECT of 100 rows  ${baselineMs.toFixed(2).padStart(9)} ms`);
    for (const [label, url] of cases) {
      const ms = await best(ROUNDS, get(url));
      console.log(`${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / baselineMs).toFixed(0).padStart(6)}x baseline`);
    }
  });
}

await main();
