/**
 * The Open edX simulator over real HTTP: LMS token endpoint, JWT auth and the read side of the
 * Credentials API. Test names quote the doc sentence (or DRF convention) they check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenedx, type Harness, type Page } from './openedx.testkit.ts';

let h: Harness;
beforeAll(async () => {
  h = await startOpenedx();
});
afterAll(async () => {
  await h.close();
});

const tokenRequest = (body: Record<string, string>, json = false): Promise<Response> =>
  fetch(`${h.base}/oauth2/access_token`, {
    method: 'POST',
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
    body: json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
  });

describe('LMS token endpoint and JWT auth', () => {
  it('"POST /oauth2/access_token" client_credentials + token_type=jwt (form or JSON) -> {access_token, token_type "JWT", expires_in, scope}', async () => {
    const c = h.oe.clients[0];
    for (const json of [false, true]) {
      const r = await tokenRequest({ grant_type: 'client_credentials', client_id: c?.clientId ?? '', client_secret: c?.clientSecret ?? '', token_type: 'jwt' }, json);
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      const body = (await r.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
      expect(body).toMatchObject({ token_type: 'JWT', expires_in: 3600, scope: 'read write' });
      expect(String(body.access_token).split('.')).toHaveLength(3);
    }
  });

  it('wrong client -> 401 {"error":"invalid_client"}; another grant -> 400 {"error":"unsupported_grant_type"}', async () => {
    const c = h.oe.clients[0];
    const bad = await tokenRequest({ grant_type: 'client_credentials', client_id: c?.clientId ?? '', client_secret: 'nope', token_type: 'jwt' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'invalid_client' });
    const grant = await tokenRequest({ grant_type: 'password', client_id: c?.clientId ?? '', client_secret: c?.clientSecret ?? '' });
    expect(grant.status).toBe(400);
    expect(await grant.json()).toEqual({ error: 'unsupported_grant_type' });
  });

  it('HTTP Basic client authentication works too; without token_type=jwt the LMS gives an opaque Bearer token the API refuses', async () => {
    const c = h.oe.clients[0];
    const r = await fetch(`${h.base}/oauth2/access_token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${c?.clientId}:${c?.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const body = (await r.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('Bearer');
    const refused = await h.api('GET', '/api/v2/credentials/', undefined, `Bearer ${body.access_token}`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
  });

  it('"Authentication credentials were not provided." -> 401 without Authorization, with WWW-Authenticate: JWT realm="api"', async () => {
    const r = await h.api('GET', '/api/v2/credentials/', undefined, null);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('JWT realm="api"');
    expect(await r.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
  });

  it('a malformed or tampered token -> 401 with the DRF-JWT detail', async () => {
    const t = await h.token();
    const cases: [string, string][] = [
      ['JWT', 'Invalid Authorization header. No credentials provided.'],
      [`JWT ${t} extra`, 'Invalid Authorization header. Credentials string should not contain spaces.'],
      [`JWT ${t.slice(0, -3)}abc`, 'Error decoding signature.'],
      ['JWT not-a-token', 'Error decoding signature.'],
    ];
    for (const [header, detail] of cases) {
      const r = await h.api('GET', '/api/v2/credentials/', undefined, header);
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({ detail });
    }
    expect((await h.api('GET', '/api/v2/credentials/', undefined, `jwt ${t}`)).status).toBe(200);
  });

  it('tokens really expire after tokenTtlSeconds (server clock) -> 401 "Signature has expired."; a new token works', async () => {
    const t = await h.token();
    h.advance(3599_000);
    expect((await h.api('GET', '/api/v2/credentials/', undefined, `JWT ${t}`)).status).toBe(200);
    h.advance(1_000);
    const r = await h.api('GET', '/api/v2/credentials/', undefined, `JWT ${t}`);
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ detail: 'Signature has expired.' });
    expect((await h.api('GET', '/api/v2/credentials/', undefined, `JWT ${await h.token()}`)).status).toBe(200);
  });
});

describe('GET /api/v2/credentials/', () => {
  it('"All credentials are returned by default for any user with the credentials.view_credential permission." -> count is every credential', async () => {
    const page = await h.json<Page>('/api/v2/credentials/');
    expect(page.count).toBe(h.oe.data.credentials.live.length);
    expect(page.count).toBeGreaterThan(100);
    expect(page.results).toHaveLength(20);
    expect(page.previous).toBeNull();
  });

  it('Teak item (serializers.py UserCredentialSerializer): username, credential, status, uuid, attributes, date_override, created, modified, certificate_url; no download_url, no fraction of a second', async () => {
    const all = await h.walk();
    const program = all.find((c) => c.credential.type === 'program');
    const run = all.find((c) => c.credential.type === 'course-run');
    for (const item of [program, run]) {
      expect(Object.keys(item ?? {})).toEqual(['username', 'credential', 'status', 'uuid', 'attributes', 'date_override', 'created', 'modified', 'certificate_url']);
      expect(item?.date_override).toBeNull();
      expect(item?.certificate_url).toBe(`${h.base}/credentials/${item?.uuid.replace(/-/g, '')}/`);
    }
    // CredentialField.to_representation: a course run has no credential_id.
    expect(Object.keys(program?.credential ?? {})).toEqual(['type', 'credential_id', 'program_uuid']);
    expect(Object.keys(run?.credential ?? {})).toEqual(['type', 'course_run_key', 'mode']);
    // DATETIME_FORMAT "%Y-%m-%dT%H:%M:%SZ": never a fraction, although the stored times have microseconds.
    for (const c of all) {
      expect(c.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(c.modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    expect(h.oe.data.credentials.created.some((us) => us % 1_000_000 !== 0)).toBe(true);
    expect(all.filter((c) => c.status === 'revoked').length / all.length).toBeGreaterThan(0.02);
    expect(all.some((c) => c.attributes.some((a) => a.name === 'whitelist_reason'))).toBe(true);
  });

  it('DRF page pagination: {count, next, previous, results}, next/previous absolute with the query keys sorted, page=last', async () => {
    const p1 = await h.json<Page>('/api/v2/credentials/?status=awarded&type=course-run');
    expect(p1.next).toBe(`${h.base}/api/v2/credentials/?page=2&status=awarded&type=course-run`);
    const p2 = await h.json<Page>(p1.next ?? '');
    expect(p2.previous).toBe(`${h.base}/api/v2/credentials/?status=awarded&type=course-run`);
    expect(p2.next).toContain('page=3');
    const all = await h.walk('/api/v2/credentials/?status=awarded&type=course-run');
    expect(all.length).toBe(p1.count);
    expect(new Set(all.map((c) => c.uuid)).size).toBe(all.length);
    const last = await h.json<Page>('/api/v2/credentials/?status=awarded&type=course-run&page=last');
    expect(last.next).toBeNull();
    expect(last.results.at(-1)?.uuid).toBe(all.at(-1)?.uuid);
    // get_page_number: `... or 1`, so an empty page is the first.
    expect((await h.json<Page>('/api/v2/credentials/?page=')).results).toEqual((await h.json<Page>('/api/v2/credentials/')).results);
  });

  it('page_size is ignored (no page_size_query_param): always PAGE_SIZE = 20 rows, and next links keep it as sent', async () => {
    for (const size of ['100', '1000', '5', 'abc', '0']) {
      const page = await h.json<Page>(`/api/v2/credentials/?page_size=${size}`);
      expect(page.results).toHaveLength(20);
      expect(page.next).toBe(`${h.base}/api/v2/credentials/?page=2&page_size=${size}`);
    }
  });

  it('the pageSize option is the server setting (REST_FRAMEWORK PAGE_SIZE), still not the query', async () => {
    const small = await startOpenedx({ people: 30, pageSize: 7 });
    try {
      expect((await small.json<Page>('/api/v2/credentials/?page_size=50')).results).toHaveLength(7);
    } finally {
      await small.close();
    }
  });

  it('a page past the end (or not a page number) -> 404 {"detail":"Invalid page."}', async () => {
    const { count } = await h.json<Page>('/api/v2/credentials/');
    for (const page of [String(Math.ceil(count / 20) + 1), '0', 'two', '2.5']) {
      const r = await h.api('GET', `/api/v2/credentials/?page=${page}`);
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ detail: 'Invalid page.' });
    }
  });

  it('no ORDER BY upstream (views.py get_queryset): the default order is stable but not creation order; order "id" is creation order', async () => {
    const walk1 = await h.walk();
    expect((await h.walk()).map((c) => c.uuid)).toEqual(walk1.map((c) => c.uuid));
    const byCreation = [...h.oe.data.credentials.live].map((row) => h.oe.data.credentials.uuid[row]);
    expect(walk1.map((c) => c.uuid)).not.toEqual(byCreation);
    expect(new Set(walk1.map((c) => c.uuid))).toEqual(new Set(byCreation));
    const ordered = await startOpenedx({ order: 'id' });
    try {
      expect((await ordered.walk()).map((c) => c.uuid)).toEqual(byCreation);
    } finally {
      await ordered.close();
    }
  });

  it('"You can filter the returned list of credentials by using the username or status parameters in the query string."', async () => {
    const all = await h.walk();
    const username = all[0]?.username ?? '';
    const mine = await h.walk(`/api/v2/credentials/?username=${encodeURIComponent(username)}`);
    expect(mine.map((c) => c.uuid)).toEqual(all.filter((c) => c.username === username).map((c) => c.uuid));
    const revoked = await h.walk('/api/v2/credentials/?status=revoked');
    expect(revoked.map((c) => c.uuid)).toEqual(all.filter((c) => c.status === 'revoked').map((c) => c.uuid));
    const bad = await h.api('GET', '/api/v2/credentials/?status=expired');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ status: ['Select a valid choice. expired is not one of the available choices.'] });
    expect((await h.json<Page>('/api/v2/credentials/?username=nobody%40example.com')).count).toBe(0);
  });

  it('"You can filter the returned list of credentials by using the program_uuid parameter" (filters.py ProgramRelatedFilter: plus course-run credentials of the program\'s runs)', async () => {
    const catalog = (await (await h.control('GET', '/catalog')).json()) as { programs: { uuid: string; course_runs: string[] }[] };
    const all = await h.walk();
    const program = catalog.programs.find((p) => all.some((c) => c.credential.type === 'program' && c.credential.program_uuid === p.uuid));
    const got = await h.walk(`/api/v2/credentials/?program_uuid=${program?.uuid}`);
    const expected = all.filter((c) => (c.credential.type === 'program' ? c.credential.program_uuid === program?.uuid : program?.course_runs.includes(c.credential.course_run_key)));
    expect(got.map((c) => c.uuid)).toEqual(expected.map((c) => c.uuid));
    expect(got.some((c) => c.credential.type === 'course-run')).toBe(true);
    expect((await h.json<Page>('/api/v2/credentials/?program_uuid=not-a-uuid')).count).toBe(0);
  });

  it('type=program | course-run filters by kind; an unknown type is ignored (filters.py CredentialTypeFilter)', async () => {
    const all = await h.json<Page>('/api/v2/credentials/');
    const programs = await h.walk('/api/v2/credentials/?type=program');
    const runs = await h.json<Page>('/api/v2/credentials/?type=course-run');
    expect(programs.every((c) => c.credential.type === 'program')).toBe(true);
    expect(programs.length + runs.count).toBe(all.count);
    expect((await h.json<Page>('/api/v2/credentials/?type=diploma')).count).toBe(all.count);
  });
});

describe('Sumac release', () => {
  it('release "sumac": download_url after status (removed in b9d8403b), null; downloadUrls: true serves a PDF there', async () => {
    const sumac = await startOpenedx({ people: 30, release: 'sumac' });
    const files = await startOpenedx({ people: 30, release: 'sumac', downloadUrls: true });
    try {
      const item = (await sumac.json<Page>('/api/v2/credentials/')).results[0];
      expect(Object.keys(item ?? {})).toEqual(['username', 'credential', 'status', 'download_url', 'uuid', 'attributes', 'date_override', 'created', 'modified', 'certificate_url']);
      expect(item?.download_url).toBeNull();
      expect(sumac.oe.truth().every((t) => !t.file.available)).toBe(true);
      const withFile = (await files.json<Page>('/api/v2/credentials/')).results[0];
      expect(withFile?.download_url).toBe(`${files.base}/credentials/${withFile?.uuid.replace(/-/g, '')}/download/`);
      const pdf = await fetch(withFile?.download_url ?? '');
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).toBe('%PDF-');
      expect(files.oe.truth().every((t) => t.file.available)).toBe(true);
      // Teak has no such route.
      expect((await fetch(`${h.base}/credentials/${withFile?.uuid.replace(/-/g, '')}/download/`)).status).toBe(404);
    } finally {
      await sumac.close();
      await files.close();
    }
  });
});

describe('GET /api/v2/credentials/:uuid/', () => {
  it('"To get information about a specific credential for a single user, use the credential uuid." -> the list item; unknown -> 404 {"detail":"Not found."}', async () => {
    const first = (await h.json<Page>('/api/v2/credentials/')).results[0];
    expect(await h.json(`/api/v2/credentials/${first?.uuid}/`)).toEqual(first);
    expect(await h.json(`/api/v2/credentials/${first?.uuid.toUpperCase().replace(/-/g, '')}/`)).toEqual(first);
    const r = await h.api('GET', '/api/v2/credentials/a2810ab0-c084-43de-a9db-fa484fcc82bc/');
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ detail: 'Not found.' });
  });
});

describe('Django around the API (production settings)', () => {
  it('APPEND_SLASH: a path without its trailing slash -> 301 to the slashed path, query kept, for every method', async () => {
    const uuid = (await h.json<Page>('/api/v2/credentials/')).results[0]?.uuid ?? '';
    const cases: [string, string, string][] = [
      ['GET', '/api/v2/credentials?status=awarded&page=2', '/api/v2/credentials/?status=awarded&page=2'],
      ['POST', '/api/v2/credentials', '/api/v2/credentials/'],
      ['GET', `/api/v2/credentials/${uuid}`, `/api/v2/credentials/${uuid}/`],
      ['PATCH', `/api/v2/credentials/${uuid}`, `/api/v2/credentials/${uuid}/`],
      ['DELETE', `/api/v2/credentials/${uuid}`, `/api/v2/credentials/${uuid}/`],
      ['POST', '/api/credentials/v1/learner_cert_status', '/api/credentials/v1/learner_cert_status/'],
    ];
    for (const [method, path, location] of cases) {
      const r = await h.api(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(r.status, `${method} ${path}`).toBe(301);
      expect(r.headers.get('location')).toBe(location);
    }
    // Nothing was changed by the redirected requests.
    expect((await h.json<{ status: string }>(`/api/v2/credentials/${uuid}/`)).status).toBe((await h.json<Page>('/api/v2/credentials/')).results[0]?.status);
  });

  it('an unknown path is the service\'s HTML 404 page (templates/404.html), also the discovery paths: course-discovery is another service', async () => {
    for (const path of ['/api/v1/programs/', '/api/v1/course_runs/', '/api/v1/programs', '/api/v1/credentials/', '/nothing/here']) {
      const r = await h.api('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await r.text()).toContain('<h1>Page Not Found</h1>');
    }
  });
});
