/**
 * The write side of the Credentials API (views.py CredentialViewSet, serializers.py): POST (upsert), PATCH / PUT
 * (status only, other fields ignored) and DELETE (revokes). The client here holds every credentials.* permission.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialJson } from './present.ts';
import { startOpenedx, T0, WRITER, type Harness, type Page } from './openedx.testkit.ts';

let h: Harness;
let programUuid: string;
let runKeys: string[];
beforeAll(async () => {
  h = await startOpenedx({ seed: 'openedx-write', clients: [WRITER] });
  const catalog = (await (await h.control('GET', '/catalog')).json()) as { programs: { uuid: string }[]; courses: { runs: { key: string }[] }[] };
  programUuid = catalog.programs[0]?.uuid ?? '';
  runKeys = catalog.courses.flatMap((c) => c.runs.map((r) => r.key));
});
afterAll(async () => {
  await h.close();
});

const post = async (body: unknown): Promise<{ status: number; json: unknown }> => {
  const r = await h.api('POST', '/api/v2/credentials/', body);
  return { status: r.status, json: await r.json() };
};

describe('POST /api/v2/credentials/', () => {
  it('"The username and credential parameters are required." -> 400 {"username":["This field is required."], "credential":[...]}', async () => {
    expect(await post({})).toEqual({ status: 400, json: { username: ['This field is required.'], credential: ['This field is required.'] } });
    expect(await post({ credential: { program_uuid: programUuid } })).toEqual({ status: 400, json: { username: ['This field is required.'] } });
    expect(await post({ username: 'new.learner@example.com' })).toEqual({ status: 400, json: { credential: ['This field is required.'] } });
    expect(await post({ username: '  ', credential: {} })).toEqual({ status: 400, json: { username: ['This field may not be blank.'], credential: ['Credential identifier is missing.'] } });
  });

  it('an unknown program or course run -> 400 field errors under credential', async () => {
    const p = await post({ username: 'x@example.com', credential: { program_uuid: '244af8cb-7cdd-487e-afc0-aa0b6391b1fd' } });
    expect(p).toEqual({ status: 400, json: { credential: { program_uuid: 'No active ProgramCertificate exists for program [244af8cb-7cdd-487e-afc0-aa0b6391b1fd]' } } });
    const r = await post({ username: 'x@example.com', credential: { course_run_key: 'course-v1:edX+AA302+2T2023a', mode: 'verified' } });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ credential: { course_run_key: "CourseCertificate failed to create because the CourseRun course-v1:edX+AA302+2T2023a doesn't exist in the catalog" } });
  });

  it('"Example Request" for a program (with "The attributes parameter is optional.") -> 201 with the credential, listed by the API', async () => {
    const r = await post({ username: 'test-user', credential: { program_uuid: programUuid }, attributes: [{ name: 'whitelist_reason', value: 'Your reason for whitelisting.' }] });
    expect(r.status).toBe(201);
    const c = r.json as CredentialJson;
    expect(c).toMatchObject({ username: 'test-user', credential: { program_uuid: programUuid, type: 'program' }, status: 'awarded', attributes: [{ name: 'whitelist_reason', value: 'Your reason for whitelisting.' }] });
    // The server clock is 10:00:00.250: DATETIME_FORMAT prints whole seconds.
    expect(c.created).toBe('2026-06-02T10:00:00Z');
    expect(c.modified).toBe(c.created);
    expect(c.date_override).toBeNull();
    expect(await h.json(`/api/v2/credentials/${c.uuid}/`)).toEqual(c);
    const withoutAttributes = await post({ username: 'test-user-2', credential: { course_run_key: runKeys[0], mode: 'honor' } });
    expect(withoutAttributes.status).toBe(201);
    expect((withoutAttributes.json as CredentialJson).attributes).toEqual([]);
  });

  it('"The default value of status parameter for a user credential is awarded." -> a POST without status awards (also re-awards a revoked one)', async () => {
    const first = (await post({ username: 'status-user@example.com', credential: { course_run_key: runKeys[1] }, status: 'revoked' })).json as CredentialJson;
    expect(first.status).toBe('revoked');
    h.advance(1000);
    const again = await post({ username: 'status-user@example.com', credential: { course_run_key: runKeys[1] } });
    expect(again.status).toBe(201);
    expect(again.json).toMatchObject({ uuid: first.uuid, status: 'awarded' });
    expect((again.json as CredentialJson).modified).not.toBe(first.modified);
    expect(await post({ username: 'status-user@example.com', credential: { course_run_key: runKeys[1] }, status: 'expired' })).toEqual({ status: 400, json: { status: ['"expired" is not a valid choice.'] } });
  });

  it('a course-run credential carries the run\'s certificate mode, whatever mode the request sends', async () => {
    const catalog = (await (await h.control('GET', '/catalog')).json()) as { courses: { runs: { key: string; mode: string }[] }[] };
    const run = catalog.courses[0]?.runs[0];
    const r = (await post({ username: 'mode-user', credential: { course_run_key: run?.key, mode: 'audit' } })).json as CredentialJson;
    expect(r.credential).toMatchObject({ type: 'course-run', course_run_key: run?.key, mode: run?.mode });
  });

  it('"If you use the whitelist or grade attributes, you can only change the value parameter." -> posting again changes values by name', async () => {
    const body = (value: string): unknown => ({ username: 'attr-user', credential: { course_run_key: runKeys[2] }, attributes: [{ name: 'grade', value }] });
    const a = (await post(body('0.81'))).json as CredentialJson;
    const b = (await post(body('0.93'))).json as CredentialJson;
    expect(b.uuid).toBe(a.uuid);
    expect(b.attributes).toEqual([{ name: 'grade', value: '0.93' }]);
    const dup = await post({ username: 'attr-user', credential: { course_run_key: runKeys[2] }, attributes: [{ name: 'grade', value: '1' }, { name: 'grade', value: '2' }] });
    expect(dup).toEqual({ status: 400, json: { attributes: ['Attribute names cannot be duplicated.'] } });
    const shape = await post({ username: 'attr-user', credential: { course_run_key: runKeys[2] }, attributes: [{ name: 'grade' }] });
    expect(shape).toEqual({ status: 400, json: { attributes: [{ value: ['This field is required.'] }] } });
  });

  it('the doc\'s "you can only provide the whitelist attribute" for programs is not in the code (issuers.py set_credential_attributes): any attribute is stored', async () => {
    const r = await post({ username: 'program-attr', credential: { program_uuid: programUuid }, attributes: [{ name: 'grade', value: '0.9' }] });
    expect(r.status).toBe(201);
    expect((r.json as CredentialJson).attributes).toEqual([{ name: 'grade', value: '0.9' }]);
  });

  it('a malformed program uuid is the UUIDField\'s error; a credential that is not an object raises (500 HTML); date_override {date} is stored', async () => {
    expect(await post({ username: 'x', credential: { program_uuid: 'nope' } })).toEqual({ status: 400, json: { credential: ['\u201cnope\u201d is not a valid UUID.'] } });
    const crash = await h.api('POST', '/api/v2/credentials/', { username: 'x', credential: 'course-v1:x' });
    expect(crash.status).toBe(500);
    expect(crash.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const dated = await post({ username: 'dated', credential: { course_run_key: runKeys[3] }, date_override: { date: '2025-03-04T05:06:07.891Z' } });
    expect(dated.status).toBe(201);
    expect((dated.json as CredentialJson).date_override).toEqual({ date: '2025-03-04T05:06:07Z' });
    // Posting again without one removes it (set_credential_date_override).
    expect(((await post({ username: 'dated', credential: { course_run_key: runKeys[3] } })).json as CredentialJson).date_override).toBeNull();
  });

  it('a body that is not JSON -> 400 {"detail":"JSON parse error - ..."}', async () => {
    const r = await fetch(`${h.base}/api/v2/credentials/`, { method: 'POST', headers: { authorization: `JWT ${await h.token()}`, 'content-type': 'application/json' }, body: '{"username":' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { detail: string }).detail).toMatch(/^JSON parse error - /);
  });
});

describe('PATCH / PUT / DELETE /api/v2/credentials/:uuid/', () => {
  it('"This endpoint only accepts the status parameter. Valid values for the status parameter are awarded and revoked." -> 200 and modified moves', async () => {
    const item = (await h.json<Page>('/api/v2/credentials/?status=awarded')).results[0] as CredentialJson;
    h.advance(60_000);
    const r = await h.api('PATCH', `/api/v2/credentials/${item.uuid}/`, { status: 'revoked' });
    expect(r.status).toBe(200);
    const changed = (await r.json()) as CredentialJson;
    expect(changed).toEqual({ ...item, status: 'revoked', modified: changed.modified });
    expect(Date.parse(changed.modified)).toBe(Math.floor(h.now() / 1000) * 1000);
    expect(Date.parse(changed.modified)).toBeGreaterThan(T0);
    expect((await h.json<CredentialJson>(`/api/v2/credentials/${item.uuid}/`)).status).toBe('revoked');
    expect((await (await h.api('PATCH', `/api/v2/credentials/${item.uuid}/`, { status: 'awarded' })).json()) as CredentialJson).toMatchObject({ status: 'awarded' });
  });

  it('other fields are read-only and silently ignored (200); {} is 200 and only bumps modified; a bad status is a DRF field error', async () => {
    const item = (await h.json<Page>('/api/v2/credentials/')).results[1] as CredentialJson;
    h.advance(5000);
    const ignored = await h.api('PATCH', `/api/v2/credentials/${item.uuid}/`, { username: 'someone-else', uuid: 'x', created: '2020-01-01T00:00:00Z', attributes: [{ name: 'a', value: 'b' }] });
    expect(ignored.status).toBe(200);
    const after = (await ignored.json()) as CredentialJson;
    expect(after).toEqual({ ...item, modified: after.modified });
    expect(after.modified).not.toBe(item.modified);
    const empty = await h.api('PATCH', `/api/v2/credentials/${item.uuid}/`, {});
    expect(empty.status).toBe(200);
    const bad = async (body: unknown): Promise<unknown> => {
      const r = await h.api('PATCH', `/api/v2/credentials/${item.uuid}/`, body);
      expect(r.status).toBe(400);
      return r.json();
    };
    expect(await bad({ status: 'x' })).toEqual({ status: ['"x" is not a valid choice.'] });
    expect(await bad({ status: null })).toEqual({ status: ['This field may not be null.'] });
    expect((await h.api('PATCH', '/api/v2/credentials/a2810ab0-c084-43de-a9db-fa484fcc82bc/', { status: 'revoked' })).status).toBe(404);
  });

  it('PUT is a full update of the same writable fields: status (optional, the model has a default)', async () => {
    const item = (await h.json<Page>('/api/v2/credentials/?status=awarded')).results[2] as CredentialJson;
    const r = await h.api('PUT', `/api/v2/credentials/${item.uuid}/`, { status: 'revoked', username: 'ignored' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ uuid: item.uuid, username: item.username, status: 'revoked' });
    expect((await h.api('PUT', `/api/v2/credentials/${item.uuid}/`, {})).status).toBe(200);
  });

  it('DELETE revokes, it does not delete (views.py destroy / perform_destroy): 200 with the revoked credential, still listed', async () => {
    const item = (await h.json<Page>('/api/v2/credentials/?status=awarded')).results[3] as CredentialJson;
    const before = (await h.json<Page>('/api/v2/credentials/')).count;
    h.advance(2000);
    const r = await h.api('DELETE', `/api/v2/credentials/${item.uuid}/`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as CredentialJson;
    expect(body).toEqual({ ...item, status: 'revoked', modified: body.modified });
    expect((await h.json<Page>('/api/v2/credentials/')).count).toBe(before);
    expect((await h.json<CredentialJson>(`/api/v2/credentials/${item.uuid}/`)).status).toBe('revoked');
    expect((await h.api('DELETE', '/api/v2/credentials/a2810ab0-c084-43de-a9db-fa484fcc82bc/')).status).toBe(404);
  });
});
