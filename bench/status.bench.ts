/**
 * Bulk status at scale (issue: "for one person or 10,000"): 10,000 people on a store of 1,000,000 certificates
 * (SQLite file), through POST /v1/status/bulk (app.inject: routing, validation, lookups, evaluation, JSON) and through
 * the service alone, against a raw baseline measured in the same run: a plain indexed SELECT of the same people's
 * certificates by person id (better-sqlite3, no parsing), which no status check can beat.
 *
 *   npm run bench status                      # 100,000 people x 10 certificates
 *   BENCH_PEOPLE=20000 npm run bench status
 */
import Database from 'better-sqlite3';
import { best, withMillionStore } from './million.ts';
import { CERTS_PER_PERSON, courseCode, personId, queryFor } from '../src/compliance/bulk-fixture.testkit.ts';
import { checkPeople } from '../src/compliance/status-check.ts';

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 100_000);
const ASKED = Math.min(10_000, PEOPLE);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NOW = new Date('2025-06-01T10:00:00Z');

async function main(): Promise<void> {
  await withMillionStore('status', PEOPLE, NOW, async (hub, file) => {
    const step = Math.floor(PEOPLE / ASKED);
    const asked = Array.from({ length: ASKED }, (_, k) => k * step);
    const queries = asked.map((i) => queryFor(i, hub.a.source.slug));
    const achievements = [{ code: courseCode(3) }, { code: courseCode(7) }, { code: courseCode(11) }];

    // Baseline: the same people's certificate rows by an indexed IN-list SELECT, 5000 ids a statement.
    const raw = new Database(file, { readonly: true });
    const ids = asked.map(personId);
    const select = raw.prepare(`select * from certificates where tenant_id = ? and person_id in (${Array(5000).fill('?').join(',')}) order by person_id, id`);
    let rows = 0;
    const baselineMs = await best(ROUNDS, () => {
      rows = 0;
      for (let i = 0; i < ids.length; i += 5000) {
        const part = ids.slice(i, i + 5000);
        while (part.length < 5000) part.push('');
        rows += select.all(hub.a.id, ...part).length;
      }
    });
    raw.close();

    const serviceMs = await best(ROUNDS, () => checkPeople(hub.store, hub.a.id, queries, { achievements, now: NOW }));
    let bytes = 0;
    const httpMs = await best(ROUNDS, async () => {
      const res = await hub.call('POST', '/v1/status/bulk', { key: hub.a.readKey, body: { people: queries, achievements } });
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
      bytes = res.rawPayload.length;
    });

    const perSecond = (ms: number) => Math.round(ASKED / (ms / 1000)).toLocaleString('en');
    console.log(`asked: ${ASKED} people (${rows} certificates, ~${CERTS_PER_PERSON} each), 3 achievements, best of ${ROUNDS}`);
    console.log(`baseline indexed SELECT      ${baselineMs.toFixed(0).padStart(6)} ms  ${perSecond(baselineMs).padStart(9)} people/s`);
    console.log(`status service (checkPeople) ${serviceMs.toFixed(0).padStart(6)} ms  ${perSecond(serviceMs).padStart(9)} people/s  ${(serviceMs / baselineMs).toFixed(1)}x baseline`);
    console.log(`POST /v1/status/bulk         ${httpMs.toFixed(0).padStart(6)} ms  ${perSecond(httpMs).padStart(9)} people/s  ${(httpMs / baselineMs).toFixed(1)}x baseline  (${(bytes / 1024 / 1024).toFixed(1)} MiB answer)`);
  });
}

await main();
