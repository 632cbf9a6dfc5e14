/**
 * Issue 16, pushes against the simulators over real sockets: FrontCore diplomas that satisfy a push rule are posted to
 * Springest (waiting for Springest to verify the certification, then seen exactly once) and awarded in Open edX
 * (revoked there when the original is deleted, awarded again when it comes back), and the copies certhub made are
 * never stored as extra certificates of the person when those platforms are synced.
 */
import { afterEach, expect, it } from 'vitest';
import type { Certificate } from '../domain/certificate.ts';
import { databaseOf } from '../store/database.testkit.ts';
import { describeEachDialect } from '../store/dialects.testkit.ts';
import type { Push, Store } from '../store/index.ts';
import { createTestClock, type TestClock } from '../test-clock.testkit.ts';
import { createPushWorker, type PushWorker } from './push-worker.ts';
import { resolvePushRule } from './push-rules.ts';
import { startPushWorld, type PushWorld } from './push.testkit.ts';

let world: PushWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Runs the worker until nothing is due within `horizonMs` of the clock, moving the clock to each next due action. */
export async function drain(store: Store, worker: PushWorker, clock: TestClock, horizonMs: number, maxPasses = 2000): Promise<number> {
  let passes = 0;
  for (; passes < maxPasses; passes++) {
    if ((await worker.runOnce()) > 0) continue;
    const due = await store.pushes.nextDue();
    if (due === null) break;
    const wait = Date.parse(due) - clock.nowMs();
    if (wait > horizonMs) break;
    if (wait > 0) clock.advance(wait + 1);
  }
  return passes;
}

async function awardedWithFile(store: Store, pw: PushWorld): Promise<Certificate[]> {
  const page = await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.fc.source.id], statuses: ['awarded'] }, { limit: 1000 });
  return page.items.filter((c) => c.file.available && c.subject.email !== null);
}

/** The achievement of the FrontCore course with the most awarded diplomas carrying a PDF and an email. */
function busiest(certs: Certificate[]): { external_id: string; certs: Certificate[] } {
  const by = new Map<string, Certificate[]>();
  for (const c of certs) by.set(c.achievement.external_id, [...(by.get(c.achievement.external_id) ?? []), c]);
  const [external_id, list] = [...by].sort((a, b) => b[1].length - a[1].length)[0]!;
  return { external_id, certs: list };
}

async function pushesOf(store: Store, tenantId: string): Promise<Push[]> {
  return (await store.pushes.listPushes(tenantId, { limit: 500 })).items;
}

async function springestList(pw: PushWorld, certificationId: string): Promise<{ id: number; user: { email: string }; valid_from: string }[]> {
  const res = await fetch(`${pw.sp.url}/users/certificates.json?api_key=${pw.sp.sim.host.apiKey}&certification_id=${certificationId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { certificates: { id: number; user: { email: string }; valid_from: string }[] }).certificates;
}

describeEachDialect('pushes', (h) => {
  it('posts FrontCore diplomas to Springest, waits for verification, and sees each exactly once; a Springest sync links the copies', { timeout: 120_000 }, async () => {
    const clock = createTestClock();
    const store = await h.open();
    const pw = (world = await startPushWorld(store, clock));
    const course = busiest(await awardedWithFile(store, pw));
    const certification = pw.sp.sim.host.certifications.find((c) => !c.verified && !c.requires_valid_until);
    expect(certification, 'the seeded Springest host has an unverified certification').toBeDefined();
    const certificationId = String(certification!.id);
    const before = await springestList(pw, certificationId);

    const rule = await store.pushes.createRule(
      pw.tenant.id,
      await resolvePushRule(store, pw.tenant.id, {
        name: 'FrontCore course to Springest',
        match: { achievement: { source: 'fc', external_id: course.external_id } },
        target_source: 'sp',
        target: { certification_id: certificationId, verify_within_days: 10 },
      }),
      { now: clock.now() },
    );
    // The rule covers the diplomas already stored: one push each, queued in the rule's transaction.
    let pushes = await pushesOf(store, pw.tenant.id);
    expect(pushes.map((p) => p.certificate_id).sort()).toEqual(course.certs.map((c) => c.id).sort());
    expect(pushes.every((p) => p.state === 'queued' && p.rule_id === rule.id)).toBe(true);

    const worker = createPushWorker({ store, connector: pw.connector, now: clock.now, random: () => 0.5 });
    // Posted (paced), but Springest shows nothing before it verified the certification.
    await drain(store, worker, clock, 10_000);
    pushes = await pushesOf(store, pw.tenant.id);
    expect(pushes.map((p) => p.state)).toEqual(pushes.map(() => 'awaiting_verification'));
    expect(pushes.every((p) => p.remote_id !== null && p.last_error === null)).toBe(true);
    expect(await springestList(pw, certificationId)).toHaveLength(before.length);
    const posted = pw.sp.sim.host.posted.size;
    expect(posted).toBe(course.certs.length);

    await pw.control('sp', 'POST', `/certifications/${certificationId}/verify`);
    await drain(store, worker, clock, 2 * 3600_000);
    pushes = await pushesOf(store, pw.tenant.id);
    expect(pushes.map((p) => p.state)).toEqual(pushes.map(() => 'pushed'));
    expect(pushes.every((p) => p.verified_at !== null)).toBe(true);
    // Exactly once each: one certificate per diploma's email at Springest, the posted PDFs the archived ones.
    const listed = await springestList(pw, certificationId);
    const mine = listed.filter((c) => pushes.some((p) => p.remote_id === String(c.id)));
    expect(mine).toHaveLength(course.certs.length);
    expect(pw.sp.sim.host.posted.size).toBe(posted);
    // Per email, as many copies as the person has diplomas of the course (one per diploma, never two).
    const perEmail = (emails: string[]) => emails.reduce((m, e) => m.set(e.trim().toLowerCase(), (m.get(e.trim().toLowerCase()) ?? 0) + 1), new Map<string, number>());
    expect(perEmail(mine.map((c) => c.user.email))).toEqual(perEmail(course.certs.map((c) => c.subject.email!)));
    const events = await databaseOf(store).selectFrom('events').select(['type']).execute();
    expect(events).toEqual([]); // nobody subscribed: no events stored

    // Syncing Springest reads the copies back: linked to their pushes, not stored as certificates of their own.
    await pw.sync('sp', { full: true });
    const fromSpringest = await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.sp.source.id] }, { limit: 5000 });
    const remoteIds = new Set(pushes.map((p) => p.remote_id));
    expect(fromSpringest.items.filter((c) => remoteIds.has(c.external_id))).toEqual([]);
    // Springest's own certificates of that certification (visible now it is verified) are stored, the copies not.
    expect(fromSpringest.items.filter((c) => c.achievement.external_id === certificationId)).toHaveLength(listed.length - mine.length);
  });

  it('awards in Open edX, revokes within one pass when the original is deleted, awards again when it is restored; copies never become certificates', { timeout: 120_000 }, async () => {
    const clock = createTestClock();
    const store = await h.open();
    const pw = (world = await startPushWorld(store, clock));
    // Open edX first: people who hold credentials there are linked to their Open edX usernames.
    await pw.sync('oe');
    const linked = new Set(
      (await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.oe.source.id] }, { limit: 5000 })).items.flatMap((c) => (c.person_id === null ? [] : [c.person_id])),
    );
    const fc = (await awardedWithFile(store, pw)).filter((c) => c.person_id !== null);
    const withUser = fc.filter((c) => linked.has(c.person_id!));
    const without = fc.find((c) => !linked.has(c.person_id!));
    expect(withUser.length).toBeGreaterThan(0);
    const course = withUser[0]!.achievement.external_id;
    const catalog = (await pw.control('oe', 'GET', '/catalog')) as { programs: { uuid: string }[] };
    const program = catalog.programs.at(-1)!.uuid;
    const oeBefore = (await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.oe.source.id] }, { limit: 5000 })).items.length;

    const targets = [...fc.filter((c) => c.achievement.external_id === course)];
    const usernames: Record<string, string> = {};
    if (without !== undefined && without.achievement.external_id === course) usernames[without.subject.email!] = 'mapped.learner';
    await store.pushes.createRule(
      pw.tenant.id,
      await resolvePushRule(store, pw.tenant.id, {
        name: 'FrontCore course to Open edX program',
        match: { achievement: { source: 'fc', external_id: course } },
        sources: ['fc'],
        target_source: 'oe',
        target: { program_uuid: program },
        usernames,
      }),
      { now: clock.now() },
    );
    const worker = createPushWorker({ store, connector: pw.connector, now: clock.now, random: () => 0.5 });
    await drain(store, worker, clock, 60_000);
    const pushes = await pushesOf(store, pw.tenant.id);
    expect(pushes).toHaveLength(targets.length);
    const pushed = pushes.filter((p) => p.state === 'pushed');
    // Those with a linked identity (or a mapping) are awarded; anyone else fails with the reason.
    for (const p of pushes) {
      const cert = targets.find((c) => c.id === p.certificate_id)!;
      if (linked.has(cert.person_id!) || usernames[cert.subject.email!] !== undefined) expect(p.state, p.last_error ?? '').toBe('pushed');
      else {
        expect(p.state).toBe('failed');
        expect(p.last_error).toMatch(/no Open edX username/);
      }
    }
    expect(pushed.length).toBeGreaterThan(0);
    const truth = () => pw.oe.sim.truth();
    for (const p of pushed) expect(truth().find((t) => t.external_id === p.remote_id)?.status).toBe('awarded');

    // A sync of Open edX reads the awarded copies: linked, not extra certificates of the person.
    await pw.sync('oe');
    const oeAfter = (await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.oe.source.id] }, { limit: 5000 })).items;
    expect(oeAfter.filter((c) => pushed.some((p) => p.remote_id === c.external_id))).toEqual([]);
    expect(oeAfter.length).toBe(oeBefore);

    // The original is deleted at FrontCore: after the next sync, ONE outbox pass revokes the copy.
    const victim = pushed[0]!;
    const original = targets.find((c) => c.id === victim.certificate_id)!;
    await pw.control('fc', 'DELETE', `/diplomas/${original.external_id}`);
    clock.advance(60_000);
    await pw.sync('fc');
    expect((await store.pushes.getPush(pw.tenant.id, victim.id))?.desired).toBe('revoked');
    expect(await worker.runOnce()).toBe(1);
    expect(truth().find((t) => t.external_id === victim.remote_id)?.status).toBe('revoked');
    expect((await store.pushes.getPush(pw.tenant.id, victim.id))?.state).toBe('revoked');

    // Restored: awarded again, the same credential.
    await pw.control('fc', 'PATCH', `/diplomas/${original.external_id}`, { deleted_at: null });
    clock.advance(60_000);
    await pw.sync('fc');
    expect(await worker.runOnce()).toBe(1);
    expect(truth().find((t) => t.external_id === victim.remote_id)?.status).toBe('awarded');
    const again = await store.pushes.getPush(pw.tenant.id, victim.id);
    expect(again?.state).toBe('pushed');
    expect(again?.remote_id).toBe(victim.remote_id);

    await pw.sync('oe');
    const oeFinal = (await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.oe.source.id] }, { limit: 5000 })).items;
    expect(oeFinal.length).toBe(oeBefore);
  });
});

describeEachDialect('pushes onto what the platform already has', (h) => {
  it("an Open edX credential the learner held before the push stays Open edX's own: still synced, never revoked by certhub", { timeout: 120_000 }, async () => {
    const clock = createTestClock();
    const store = await h.open();
    const pw = (world = await startPushWorld(store, clock));
    await pw.sync('oe');
    const oeCerts = (await store.certificates.listCertificates(pw.tenant.id, { source_ids: [pw.oe.source.id], statuses: ['awarded'] }, { limit: 5000 })).items;
    const fc = await awardedWithFile(store, pw);
    // A FrontCore diploma whose person already holds an awarded Open edX program credential.
    let pair: { diploma: Certificate; genuine: Certificate } | undefined;
    for (const diploma of fc) {
      const genuine = oeCerts.find((c) => c.person_id === diploma.person_id && c.achievement.type === 'program');
      if (genuine !== undefined) pair = { diploma, genuine };
      if (pair !== undefined) break;
    }
    expect(pair, 'the seeded world has a FrontCore learner with an Open edX program credential').toBeDefined();
    const { diploma, genuine } = pair!;
    clock.advance(3600_000);
    await store.pushes.createRule(
      pw.tenant.id,
      await resolvePushRule(store, pw.tenant.id, {
        name: 'to a program they hold',
        match: { achievement: { source: 'fc', external_id: diploma.achievement.external_id } },
        target_source: 'oe',
        target: { program_uuid: genuine.achievement.external_id },
      }),
      { now: clock.now() },
    );
    const worker = createPushWorker({ store, connector: pw.connector, now: clock.now, random: () => 0.5 });
    await drain(store, worker, clock, 60_000);
    const push = (await store.pushes.listPushes(pw.tenant.id, { certificate_id: diploma.id })).items[0]!;
    expect(push.state).toBe('pushed');
    expect(push.remote_id).toBeNull();
    expect(push.last_error).toMatch(/already had this .* not revoked by certhub/);

    // A full sync keeps the learner's own credential as a certificate (not taken for certhub's copy, not swept).
    await pw.sync('oe', { full: true });
    expect((await store.certificates.getCertificate(pw.tenant.id, genuine.id))?.status).toBe('awarded');
    // The diploma deleted: nothing of Open edX's is revoked.
    await pw.control('fc', 'DELETE', `/diplomas/${diploma.external_id}`);
    clock.advance(60_000);
    await pw.sync('fc');
    await drain(store, worker, clock, 60_000);
    expect(pw.oe.sim.truth().find((t) => t.external_id === genuine.external_id)?.status).toBe('awarded');
    expect((await store.pushes.getPush(pw.tenant.id, push.id))?.state).toBe('cancelled');
  });
});
