/** Issue 16: certificate.expiring and certificate.expired come from a scheduled pass, once per certificate and end date. */
import { expect, it } from 'vitest';
import { addDays } from '../domain/requirement.ts';
import { calendarDate } from '../domain/validity.ts';
import { createPersonResolver } from '../identity/resolver.ts';
import { createTestClock } from '../test-clock.testkit.ts';
import { describeEachDialect, sampleCertificate } from './dialects.testkit.ts';
import { databaseOf } from './database.testkit.ts';

const DAY = 86_400_000;

describeEachDialect('time-driven certificate events', (h) => {
  async function setup() {
    const clock = createTestClock();
    const store = await h.open();
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const source = await store.sources.upsertSourceFromConfig(tenant.id, { slug: 'fc', provider: 'frontcore', settings: {}, credentials: null });
    await store.webhooks.createEndpoint(tenant.id, { url: 'https://hooks.example.com/x', event_types: ['certificate.expiring', 'certificate.expired'] });
    const save = (certs: ReturnType<typeof sampleCertificate>[]) =>
      store.certificates.savePage(source.id, certs, null, { now: clock.now(), resolvePeople: createPersonResolver() });
    /** The certificate.expiring/expired events queued so far, as "type external_id valid_until". */
    const told = async () => {
      const rows = await databaseOf(store).selectFrom('events').select(['type', 'data_json']).where('type', 'like', 'certificate.expir%').execute();
      return rows
        .map((r) => {
          const data = JSON.parse(r.data_json) as { external_id: string; valid_until: string };
          return `${r.type} ${data.external_id} ${data.valid_until}`;
        })
        .sort();
    };
    return { clock, store, tenant, save, told };
  }

  it('tells each certificate once as it comes within 30 days of its end and once when it has ended, catching up after downtime', async () => {
    const { clock, store, save, told } = await setup();
    const today = calendarDate(clock.now());
    const on = (days: number) => addDays(today, days);
    await save([
      sampleCertificate(1, { valid_until: on(10) }), // within the window: expiring now
      sampleCertificate(2, { valid_until: on(40) }), // not yet
      sampleCertificate(3, { valid_until: on(-3) }), // ended three days ago: expired (it was never told expiring)
      sampleCertificate(4, { valid_until: on(-100) }), // ended long before: never told
      sampleCertificate(5, { valid_until: on(5), status: 'revoked' }), // revoked: its end says nothing
      sampleCertificate(6), // no end
      sampleCertificate(7, { valid_until: on(0) }), // last day today: expiring, not expired
    ]);

    expect(await store.webhooks.recordTimeEvents(clock.now())).toEqual({ expiring: 2, expired: 1 });
    expect(await told()).toEqual([
      `certificate.expired ext-3 ${on(-3)}`,
      `certificate.expiring ext-1 ${on(10)}`,
      `certificate.expiring ext-7 ${on(0)}`,
    ]);
    // The same pass again, and a pass an hour later: nothing new.
    expect(await store.webhooks.recordTimeEvents(clock.now())).toEqual({ expiring: 0, expired: 0 });
    clock.advance(3600_000);
    expect(await store.webhooks.recordTimeEvents(clock.now())).toEqual({ expiring: 0, expired: 0 });

    // Down for 15 days: the next pass tells what came due meanwhile, once.
    clock.advance(15 * DAY);
    expect(await store.webhooks.recordTimeEvents(clock.now())).toEqual({ expiring: 1, expired: 2 });
    expect((await told()).filter((t) => !t.includes('ext-3'))).toEqual([
      `certificate.expired ext-1 ${on(10)}`,
      `certificate.expired ext-7 ${on(0)}`,
      `certificate.expiring ext-1 ${on(10)}`,
      `certificate.expiring ext-2 ${on(40)}`,
      `certificate.expiring ext-7 ${on(0)}`,
    ]);

    // Renewed: a new end date is a new warning window, told again when it comes.
    await save([sampleCertificate(1, { valid_until: on(60) })]);
    expect(await store.webhooks.recordTimeEvents(clock.now())).toEqual({ expiring: 0, expired: 0 });
    clock.advance(20 * DAY);
    expect(await store.webhooks.recordTimeEvents(clock.now())).toEqual({ expiring: 1, expired: 0 });
    expect(await told()).toContain(`certificate.expiring ext-1 ${on(60)}`);

    // Each event is queued for the subscribed endpoint, with the certificate's thin payload.
    const deliveries = await databaseOf(store).selectFrom('outbox').select('subject_id').execute();
    expect(deliveries).toHaveLength((await told()).length);
  });

  it('two passes at once tell each certificate once', async () => {
    const { clock, store, save, told } = await setup();
    const today = calendarDate(clock.now());
    await save(Array.from({ length: 40 }, (_, i) => sampleCertificate(i, { valid_until: addDays(today, i % 20) })));
    const [a, b] = await Promise.all([store.webhooks.recordTimeEvents(clock.now()), store.webhooks.recordTimeEvents(clock.now())]);
    expect(a.expiring + b.expiring).toBe(40);
    expect(new Set(await told()).size).toBe(40);
    expect(await told()).toHaveLength(40);
  });
});
