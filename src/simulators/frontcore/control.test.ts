/**
 * FrontCore control routes: changes show up in the API and in the truth, stamped with the
 * simulator clock, and move the participant's updated_at so incremental sync can find them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatZoneless } from '../common/time.ts';
import type { TruthCertificate } from '../common/truth.ts';
import { generateWorld } from '../common/world.ts';
import { normalizeServed, startFrontcore, walkApi, type DiplomaJson, type DiplomasJson, type Harness, type ParticipantJson } from './frontcore.testkit.ts';

describe('FrontCore control routes', () => {
  let h: Harness;
  /** The clock as FrontCore prints it (Oslo, zone-less). */
  const stamp = (): string => formatZoneless(new Date(h.now()), 'Europe/Oslo');
  const truthOf = (id: number): TruthCertificate | undefined => h.fc.truth().find((t) => t.external_id === String(id));
  const changedSince = (text: string): Promise<ParticipantJson[]> => h.json<ParticipantJson[]>(`/v2/participants?limit=250&updated_at_min=${encodeURIComponent(text)}`);
  const body = async <T>(r: Response, status = 200): Promise<T> => {
    expect(r.status, await r.clone().text()).toBe(status);
    return (await r.json()) as T;
  };
  let courseId: number;

  beforeAll(async () => {
    h = await startFrontcore();
    courseId = h.fc.data.courses[2]?.id ?? 0;
  });
  afterAll(() => h.close());

  it('POST /__sim/diplomas for a world person: new participant + diploma, in the API, the truth, and updated_at_min', async () => {
    h.advance(3_600_000);
    const holder = h.fc.data.holders[5];
    if (!holder) throw new Error('no holder');
    const d = await body<DiplomaJson>(await h.control('POST', '/diplomas', { person_key: holder.key, course_id: courseId }), 201);
    expect(d.created_at).toBe(stamp());
    expect(d.course.id).toBe(courseId);
    expect(d.user.email).toBe(holder.email);
    const listed = await h.json<DiplomasJson>(`/v2/diplomas?user_id=${d.user.id}`);
    expect(listed.items.map((i) => i.id)).toContain(d.id);
    const changed = await changedSince(stamp());
    expect(changed.map((p) => p.id)).toEqual([d.participant_id]);
    expect(changed[0]?.certificate_issued_at).toBe(stamp());
    const t = truthOf(d.id);
    expect(t).toMatchObject({ status: 'awarded', person_key: holder.key, achievement: { external_id: String(courseId) }, issued_at: new Date(h.now()).toISOString().replace('.000Z', 'Z') });
  });

  it('POST /__sim/diplomas for a new person (body) and for a world person FrontCore did not know yet', async () => {
    h.advance(60_000);
    const person = { key: 'walk-in-1', first_name: 'Åsmund', last_name: 'Ødegård', email: 'Asmund.Odegard@Example.com ', date_of_birth: '1988-04-02', national_identification_number: null };
    const d = await body<DiplomaJson>(await h.control('POST', '/diplomas', { person, course_id: courseId, serial: 'MANUAL-1' }), 201);
    expect(truthOf(d.id)).toMatchObject({ person_key: 'walk-in-1', serial: 'MANUAL-1', subject: { email: 'Asmund.Odegard@Example.com ', first_name: 'Åsmund', date_of_birth: '1988-04-02' } });
    const world = new Set(h.fc.data.holders.map((x) => x.key));
    const stranger = generateWorld({ seed: 'frontcore-test', people: 200, asOf: '2026-06-01' }).people.find((p) => !world.has(p.key));
    if (!stranger) throw new Error('everyone knows FrontCore');
    const e = await body<DiplomaJson>(await h.control('POST', '/diplomas', { person_key: stranger.key, course_id: courseId }), 201);
    expect(truthOf(e.id)?.person_key).toBe(stranger.key);
    expect(e.user.firstname).toBe(stranger.firstName);
  });

  it('POST /__sim/participants enrols without a diploma ("certificate_issued_at (null until a certificate is issued)"), then POST /__sim/diplomas {participant_id} issues it', async () => {
    h.advance(60_000);
    const holder = h.fc.data.holders[7];
    const p = await body<ParticipantJson>(await h.control('POST', '/participants', { person_key: holder?.key, course_id: courseId }), 201);
    expect(p.certificate_issued_at).toBeNull();
    expect(p.completed).toBe(false);
    expect((await h.json<DiplomasJson>(`/v2/diplomas?participant_id=${p.id}`)).items).toEqual([]);
    h.advance(86_400_000);
    const d = await body<DiplomaJson>(await h.control('POST', '/diplomas', { participant_id: p.id }), 201);
    expect(d.participant_id).toBe(p.id);
    const [after] = await h.json<ParticipantJson[]>(`/v2/participants?since_id=${p.id - 1}&limit=1`);
    expect(after).toMatchObject({ id: p.id, completed: true, certificate_issued_at: stamp(), updated_at: stamp() });
    expect((await h.control('POST', '/diplomas', { participant_id: p.id })).status).toBe(409);
  });

  it('PATCH /__sim/diplomas/:id changes serial / passed and moves updated_at of diploma and participant', async () => {
    h.advance(60_000);
    const t = h.fc.truth().find((x) => x.status === 'awarded' && x.serial !== null);
    if (!t) throw new Error('no diploma');
    const d = await body<DiplomaJson>(await h.control('PATCH', `/diplomas/${t.external_id}`, { serial: 'FIXED-42', is_passed: false, passed_note: 'Ikke bestått' }));
    expect(d).toMatchObject({ serial: 'FIXED-42', is_passed: false, passed_note: 'Ikke bestått', updated_at: stamp() });
    expect(truthOf(d.id)?.serial).toBe('FIXED-42');
    expect((await changedSince(stamp())).map((p) => p.id)).toEqual([d.participant_id]);
    const moved = await body<DiplomaJson>(await h.control('PATCH', `/diplomas/${t.external_id}`, { created_at: '2025-12-24 10:00:00' }));
    expect(moved.created_at).toBe('2025-12-24 10:00:00');
    expect(truthOf(d.id)?.issued_at).toBe('2025-12-24T09:00:00Z');
  });

  it('DELETE /__sim/diplomas/:id sets deleted_at (still listed), the truth says deleted, links and status checks stop; PATCH {deleted_at:null} restores', async () => {
    h.advance(60_000);
    const t = h.fc.truth().find((x) => x.status === 'awarded' && h.fc.truth().filter((y) => y.subject.provider_user_id === x.subject.provider_user_id && y.achievement.external_id === x.achievement.external_id).length === 1);
    if (!t) throw new Error('no diploma');
    const before = (await h.json<DiplomasJson>(`/v2/diplomas?user_id=${t.subject.provider_user_id}`)).items.find((i) => String(i.id) === t.external_id);
    const d = await body<DiplomaJson>(await h.control('DELETE', `/diplomas/${t.external_id}`));
    expect(d.deleted_at).toBe(stamp());
    const listed = (await h.json<DiplomasJson>(`/v2/diplomas?user_id=${t.subject.provider_user_id}`)).items.find((i) => String(i.id) === t.external_id);
    expect(listed?.deleted_at).toBe(stamp());
    expect(truthOf(d.id)).toMatchObject({ status: 'deleted', file: { available: false } });
    expect((await fetch(before?.links.download ?? '')).status).toBe(404);
    const status = await h.json<{ valid: boolean }>(`/v2/certificates/status?user_id=${t.subject.provider_user_id}&course_id=${t.achievement.external_id}`);
    expect(status.valid).toBe(false);
    expect((await changedSince(stamp())).map((p) => p.id)).toEqual([d.participant_id]);
    h.advance(60_000);
    await body(await h.control('PATCH', `/diplomas/${t.external_id}`, { deleted_at: null }));
    expect(truthOf(d.id)?.status).toBe('awarded');
  });

  it('PATCH /__sim/users/:id and /__sim/courses/:id show up in every diploma of theirs and move participants', async () => {
    h.advance(60_000);
    const t = h.fc.truth().find((x) => x.status === 'awarded');
    if (!t) throw new Error('no diploma');
    const u = await body<{ email: string; updated_at: string }>(await h.control('PATCH', `/users/${t.subject.provider_user_id}`, { email: 'NEW.Address@acme.no' }));
    expect(u).toMatchObject({ email: 'NEW.Address@acme.no', updated_at: stamp() });
    expect(h.fc.truth().filter((x) => x.subject.provider_user_id === t.subject.provider_user_id).every((x) => x.subject.email === 'NEW.Address@acme.no')).toBe(true);
    expect((await changedSince(stamp())).every((p) => p.user_id === Number(t.subject.provider_user_id))).toBe(true);
    h.advance(60_000);
    await body(await h.control('PATCH', `/courses/${t.achievement.external_id}`, { title: 'Renamed course' }));
    expect(truthOf(Number(t.external_id))?.achievement.title).toBe('Renamed course');
    const moved = await changedSince(stamp());
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((p) => p.course_id === Number(t.achievement.external_id) && p.certificate_issued_at !== null)).toBe(true);
  });

  it('second_account books under the person\'s private account; bad bodies -> 400, unknown ids -> 404, all as {"error"}', async () => {
    const holder = h.fc.data.holders.find((x) => x.secondEmail !== null);
    const d = await body<DiplomaJson>(await h.control('POST', '/diplomas', { person_key: holder?.key, second_account: true, course_id: courseId }), 201);
    expect(d.user.email).toBe(holder?.secondEmail);
    const bad: [string, string, unknown, number][] = [
      ['POST', '/diplomas', { course_id: courseId }, 400],
      ['POST', '/diplomas', { person_key: 'p000001', user_id: 1 }, 400],
      ['POST', '/diplomas', { person_key: 'nobody' }, 404],
      ['POST', '/diplomas', { user_id: 1, course_id: courseId }, 404],
      ['POST', '/diplomas', { person_key: holder?.key, course_id: 1 }, 404],
      ['POST', '/diplomas', { person_key: holder?.key, colour: 'red' }, 400],
      ['PATCH', '/diplomas/1', { serial: 'x' }, 404],
      ['PATCH', `/diplomas/${d.id}`, { created_at: 'yesterday' }, 400],
      ['PATCH', `/diplomas/${d.id}`, { is_passed: 'yes' }, 400],
      ['PATCH', '/users/1', { email: 'x@y.z' }, 404],
      ['PATCH', '/courses/1', { title: 'x' }, 404],
    ];
    for (const [method, path, b, status] of bad) {
      const r = await h.control(method, path, b);
      expect(r.status, `${method} ${path} ${JSON.stringify(b)}`).toBe(status);
      expect(Object.keys((await r.json()) as object)).toEqual(['error']);
    }
    const catalog = await body<{ id: number; coursedates: { id: number }[] }[]>(await h.control('GET', '/catalog'));
    expect(catalog.length).toBe(15);
  });

  it('after all these changes the truth is still exactly what the API serves', async () => {
    const served = (await walkApi(h)).map(normalizeServed).sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0));
    expect(h.fc.truth().map(({ person_key: _k, ...rest }) => rest)).toEqual(served);
  });
});
