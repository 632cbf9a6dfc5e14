/** Control routes, ground truth, determinism, throttle, faults, certificate pages and the factory's source config. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TruthCertificate } from '../common/truth.ts';
import type { CredentialJson } from './present.ts';
import { startOpenedx, WRITER, type Harness, type Page } from './openedx.testkit.ts';

let h: Harness;
beforeAll(async () => {
  h = await startOpenedx({ seed: 'openedx-control', discovery: true });
});
afterAll(async () => {
  await h.close();
});

const truth = async (hh: Harness = h): Promise<TruthCertificate[]> => (await (await hh.control('GET', '/truth')).json()) as TruthCertificate[];

/** The connector's mapping, written independently of truth.ts: list item + catalog titles -> normalized. */
async function normalizeFromApi(hh: Harness): Promise<TruthCertificate[]> {
  const items = await hh.walk();
  // Titles from the discovery service, on its own host.
  const programs = (await hh.walk(`${hh.discoveryBase}/api/v1/programs/?page_size=100`)) as unknown as { uuid: string; title: string }[];
  const runs = (await hh.walk(`${hh.discoveryBase}/api/v1/course_runs/?page_size=100`)) as unknown as { key: string; title: string }[];
  const users = (await (await hh.control('GET', '/users')).json()) as { username: string; person_key: string }[];
  const personOf = new Map(users.map((u) => [u.username, u.person_key]));
  return items
    .map((c: CredentialJson): TruthCertificate => {
      const achievement: TruthCertificate['achievement'] =
        c.credential.type === 'program'
          ? { type: 'program', external_id: c.credential.program_uuid, title: programs.find((p) => p.uuid === (c.credential as { program_uuid: string }).program_uuid)?.title ?? null, code: null }
          : { type: 'course_run', external_id: c.credential.course_run_key, title: runs.find((r) => r.key === (c.credential as { course_run_key: string }).course_run_key)?.title ?? null, code: c.credential.course_run_key };
      return {
        external_id: c.uuid,
        status: c.status as 'awarded' | 'revoked',
        subject: { provider_user_id: c.username, email: c.username.includes('@') ? c.username : null, first_name: null, last_name: null, date_of_birth: null },
        achievement,
        issued_at: new Date(c.created).toISOString().replace('.000Z', 'Z'),
        valid_from: c.created.slice(0, 10),
        valid_until: null,
        serial: null,
        // Teak: no download_url, so no file.
        file: { available: false },
        person_key: personOf.get(c.username) ?? '',
      };
    })
    .sort((a, b) => (a.external_id < b.external_id ? -1 : 1));
}

describe('ground truth and determinism', () => {
  it('truth() is exactly what the API serves, normalized by an independent mapping (titles from the catalog endpoints)', async () => {
    const t = await truth();
    expect(t.length).toBe(h.oe.data.credentials.live.length);
    expect(await normalizeFromApi(h)).toEqual(t);
    expect(t.some((c) => c.subject.email !== null && c.subject.email !== c.subject.email.toLowerCase())).toBe(true);
    expect(new Set(t.map((c) => c.achievement.type))).toEqual(new Set(['program', 'course_run']));
  });

  it('same seed -> same responses byte for byte (origin aside); another seed differs', async () => {
    const a = await startOpenedx({ seed: 'det', discovery: true });
    const b = await startOpenedx({ seed: 'det', discovery: true });
    const c = await startOpenedx({ seed: 'det-2' });
    try {
      const text = async (hh: Harness, path: string): Promise<string> => (await (await hh.api('GET', path.replace('DISCOVERY', hh.discoveryBase))).text()).split(hh.base).join('ORIGIN');
      for (const path of ['/api/v2/credentials/', '/api/v2/credentials/?page=3&status=awarded', 'DISCOVERY/api/v1/programs/']) {
        expect(await text(a, path)).toBe(await text(b, path));
      }
      expect(await text(a, '/api/v2/credentials/')).not.toBe(await text(c, '/api/v2/credentials/'));
      expect(JSON.stringify(await truth(a))).toBe(JSON.stringify(await truth(b)));
      expect(a.oe.sourceConfigs()[0]).toMatchObject({ oauth: { client_id: b.oe.clients[0]?.clientId, client_secret: b.oe.clients[0]?.clientSecret } });
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('sourceConfigs(): {id, provider, base_url, catalog_url (only with the discovery server listening), oauth {token_url, client_id, client_secret}} that work', async () => {
    const [src] = h.oe.sourceConfigs() as { id: string; provider: string; base_url: string; catalog_url?: string; oauth: { token_url: string; client_id: string; client_secret: string } }[];
    expect(src).toMatchObject({ id: 'openedx', provider: 'openedx', base_url: h.base, catalog_url: h.discoveryBase, oauth: { token_url: `${h.base}/oauth2/access_token` } });
    expect(h.discoveryBase).not.toBe(h.base);
    const alone = await startOpenedx({ people: 10 });
    try {
      expect(Object.keys(alone.oe.sourceConfigs()[0] ?? {})).toEqual(['id', 'provider', 'base_url', 'oauth']);
    } finally {
      await alone.close();
    }
    const r = await fetch(src?.oauth.token_url ?? '', { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: src?.oauth.client_id ?? '', client_secret: src?.oauth.client_secret ?? '', token_type: 'jwt' }) });
    expect(r.status).toBe(200);
  });
});

describe('course-discovery on its own server (oe.discovery)', () => {
  it('serves /api/v1/programs/ and /api/v1/course_runs/ on another host, trusting the same JWTs; page_size honoured there', async () => {
    const token = `JWT ${await h.token()}`;
    const programs = await h.api('GET', `${h.discoveryBase}/api/v1/programs/?page_size=3`, undefined, token);
    expect(programs.status).toBe(200);
    const page = (await programs.json()) as { count: number; results: { uuid: string; title: string }[] };
    expect(page.results).toHaveLength(3);
    expect(page.count).toBe(h.oe.data.catalog.programs.length);
    expect((await h.api('GET', `${h.discoveryBase}/api/v1/programs/`, undefined, null)).status).toBe(401);
    const noSlash = await h.api('GET', `${h.discoveryBase}/api/v1/course_runs?keys=x`, undefined, token);
    expect(noSlash.status).toBe(301);
    expect(noSlash.headers.get('location')).toBe('/api/v1/course_runs/?keys=x');
    // The Credentials host does not serve them.
    expect((await h.api('GET', `/api/v1/programs/`, undefined, token)).status).toBe(404);
  });
});

describe('control routes', () => {
  it('POST /__sim/credentials for a world person (not yet an LMS user) and for a new person -> in the API and the truth', async () => {
    const known = new Set(h.oe.data.users.personKey);
    const outsider = h.oe.data.world.people.find((p) => !known.has(p.key));
    const catalog = (await (await h.control('GET', '/catalog')).json()) as { programs: { uuid: string; title: string }[]; courses: { title: string; runs: { key: string }[] }[] };
    const add = await h.control('POST', '/credentials', { person_key: outsider?.key, program_uuid: catalog.programs[1]?.uuid });
    expect(add.status).toBe(201);
    const added = (await add.json()) as { credential: CredentialJson; person_key: string; lms_user_id: number };
    expect(added.person_key).toBe(outsider?.key);
    expect(added.credential.username).toBe(outsider?.email);
    expect(await h.json(`/api/v2/credentials/${added.credential.uuid}/`)).toEqual(added.credential);
    const runKey = catalog.courses[2]?.runs[0]?.key;
    const fresh = (await (await h.control('POST', '/credentials', { person: { email: 'Ny.Person@Example.com', person_key: 'ext-1' }, course_run_key: runKey, status: 'revoked', created: '2026-05-01T08:00:00Z' })).json()) as { credential: CredentialJson };
    expect(fresh.credential).toMatchObject({ username: 'Ny.Person@Example.com', status: 'revoked', created: '2026-05-01T08:00:00Z' });
    const t = await truth();
    expect(t.find((c) => c.external_id === added.credential.uuid)).toMatchObject({ person_key: outsider?.key, achievement: { type: 'program', title: catalog.programs[1]?.title } });
    expect(t.find((c) => c.external_id === fresh.credential.uuid)).toMatchObject({
      status: 'revoked',
      person_key: 'ext-1',
      subject: { provider_user_id: 'Ny.Person@Example.com', email: 'Ny.Person@Example.com' },
      achievement: { type: 'course_run', external_id: runKey, code: runKey, title: catalog.courses[2]?.title },
      issued_at: '2026-05-01T08:00:00Z',
      valid_from: '2026-05-01',
    });
    expect((await h.control('POST', '/credentials', { person_key: outsider?.key, program_uuid: catalog.programs[1]?.uuid })).status).toBe(409);
    expect((await h.control('POST', '/credentials', { program_uuid: catalog.programs[1]?.uuid })).status).toBe(400);
  });

  it('PATCH /__sim/credentials/:uuid changes status / created and bumps modified to the server clock; the truth follows', async () => {
    const item = (await h.json<Page>('/api/v2/credentials/?status=awarded')).results[2] as CredentialJson;
    h.advance(5 * 60_000);
    const r = await h.control('PATCH', `/credentials/${item.uuid}`, { status: 'revoked', created: '2024-01-15T12:00:00.123456Z', date_override: '2024-02-01T09:30:00Z' });
    expect(r.status).toBe(200);
    const served = await h.json<CredentialJson>(`/api/v2/credentials/${item.uuid}/`);
    // The API prints whole seconds; the truth keeps what the API shows.
    expect(served).toMatchObject({ status: 'revoked', created: '2024-01-15T12:00:00Z', date_override: { date: '2024-02-01T09:30:00Z' } });
    expect(Date.parse(served.modified)).toBe(Math.floor(h.now() / 1000) * 1000);
    expect((await truth()).find((c) => c.external_id === item.uuid)).toMatchObject({ status: 'revoked', issued_at: '2024-01-15T12:00:00Z', valid_from: '2024-01-15' });
    await h.control('PATCH', `/credentials/${item.uuid}`, { modified: '2025-01-01T00:00:00Z', date_override: null });
    expect(await h.json<CredentialJson>(`/api/v2/credentials/${item.uuid}/`)).toMatchObject({ modified: '2025-01-01T00:00:00Z', date_override: null });
    expect((await h.control('PATCH', `/credentials/${item.uuid}`, { status: 'pending' })).status).toBe(400);
  });

  it('DELETE /__sim/credentials/:uuid: gone from the list, 404 by uuid, absent from the truth', async () => {
    const before = await h.json<Page>('/api/v2/credentials/');
    const gone = before.results[0] as CredentialJson;
    expect((await h.control('DELETE', `/credentials/${gone.uuid}`)).status).toBe(200);
    const after = await h.json<Page>('/api/v2/credentials/');
    expect(after.count).toBe(before.count - 1);
    expect(after.results[0]?.uuid).toBe(before.results[1]?.uuid);
    expect((await h.api('GET', `/api/v2/credentials/${gone.uuid}/`)).status).toBe(404);
    expect((await truth()).some((c) => c.external_id === gone.uuid)).toBe(false);
    expect((await h.control('DELETE', `/credentials/${gone.uuid}`)).status).toBe(404);
  });

  it('GET /__sim/catalog and renaming a course: the truth title changes, the credential payload (and modified) does not', async () => {
    const catalog = (await (await h.control('GET', '/catalog')).json()) as { courses: { uuid: string; runs: { key: string }[] }[] };
    const item = (await h.walk()).find((c) => c.credential.type === 'course-run') as CredentialJson & { credential: { course_run_key: string } };
    const course = catalog.courses.find((c) => c.runs.some((r) => r.key === item.credential.course_run_key));
    expect((await h.control('PATCH', `/courses/${course?.uuid}`, { title: 'Sikkerhet på sokkelen' })).status).toBe(200);
    expect(await h.json(`/api/v2/credentials/${item.uuid}/`)).toEqual(item);
    expect((await truth()).find((c) => c.external_id === item.uuid)?.achievement.title).toBe('Sikkerhet på sokkelen');
    expect((await h.json<{ title: string }>(`${h.discoveryBase}/api/v1/course_runs/${encodeURIComponent(item.credential.course_run_key)}/`)).title).toBe('Sikkerhet på sokkelen');
  });

  it('POST /__sim/tokens/expire: tokens issued so far get 401 "Signature has expired."', async () => {
    const t = await h.token();
    expect((await h.control('POST', '/tokens/expire')).status).toBe(200);
    const r = await h.api('GET', '/api/v2/credentials/', undefined, `JWT ${t}`);
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ detail: 'Signature has expired.' });
    expect((await h.api('GET', '/api/v2/credentials/', undefined, `JWT ${await h.token()}`)).status).toBe(200);
  });
});

describe('throttle (views.py CredentialRateThrottle, DRF SimpleRateThrottle)', () => {
  it('default 15 requests / minute per service user -> 429 {"detail":"Request was throttled. Expected available in N seconds."} with Retry-After: N', async () => {
    const t = await startOpenedx({ seed: 'throttle', people: 20, throttle: undefined });
    try {
      const auth = `JWT ${await t.token(0)}`;
      const list = (a: string | null = auth): Promise<Response> => t.api('GET', '/api/v2/credentials/', undefined, a);
      for (let i = 0; i < 15; i++) {
        expect((await list()).status).toBe(200);
        t.advance(1000);
      }
      // The 16th request, 15 s after the first: the first leaves the window at 60 s.
      const r = await list();
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('45');
      expect(await r.json()).toEqual({ detail: 'Request was throttled. Expected available in 45 seconds.' });
      // Retrieve, create, update and destroy share the scope; a refused request is not counted.
      expect((await t.api('GET', `/api/v2/credentials/${t.oe.data.credentials.uuid[0]}/`, undefined, auth)).status).toBe(429);
      // Another client is another service user, with its own history; an unauthenticated request is a 401 first.
      expect((await list(`JWT ${await t.token(1)}`)).status).toBe(200);
      expect((await list(null)).status).toBe(401);
      t.advance(44_000);
      const singular = await list();
      expect(await singular.json()).toEqual({ detail: 'Request was throttled. Expected available in 1 second.' });
      expect(singular.headers.get('retry-after')).toBe('1');
      t.advance(1000);
      expect((await list()).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('staff and superuser service users are exempt; the learner status views have no throttle', async () => {
    const t = await startOpenedx({ seed: 'throttle', people: 20, throttle: undefined, clients: [{ staff: true }, { superuser: true }] });
    try {
      for (const client of [0, 1]) {
        const auth = `JWT ${await t.token(client)}`;
        for (let i = 0; i < 40; i++) expect((await t.api('GET', '/api/v2/credentials/', undefined, auth)).status).toBe(200);
      }
      const worker = await startOpenedx({ seed: 'throttle', people: 20, throttle: undefined });
      try {
        const auth = `JWT ${await worker.token(0)}`;
        for (let i = 0; i < 20; i++) expect((await worker.api('POST', '/api/credentials/v1/learner_cert_status/', { username: 'x' }, auth)).status).toBe(200);
      } finally {
        await worker.close();
      }
    } finally {
      await t.close();
    }
  });
});

describe('permissions (permissions.py UserCredentialPermissions, DjangoModelPermissions)', () => {
  it('list and retrieve need view_usercredential, else 403; a list filtered on the caller\'s own username is allowed', async () => {
    const t = await startOpenedx({ people: 20, clients: [{ permissions: [] }] });
    try {
      const uuid = t.oe.data.credentials.uuid[0] ?? '';
      for (const path of ['/api/v2/credentials/', `/api/v2/credentials/${uuid}/`, '/api/v2/credentials/?username=someone']) {
        const r = await t.api('GET', path);
        expect(r.status, path).toBe(403);
        expect(await r.json()).toEqual({ detail: 'You do not have permission to perform this action.' });
      }
      const own = await t.api('GET', `/api/v2/credentials/?username=${t.oe.clients[0]?.serviceUser.toUpperCase()}`);
      expect(own.status).toBe(200);
      expect(((await own.json()) as Page).count).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('POST needs add_, PATCH / PUT change_, DELETE delete_: the default client (view only) gets 403 for each; learner status needs the worker user or staff', async () => {
    const uuid = h.oe.data.credentials.uuid[h.oe.data.credentials.live[0] ?? 0] ?? '';
    for (const [method, path] of [['POST', '/api/v2/credentials/'], ['PATCH', `/api/v2/credentials/${uuid}/`], ['PUT', `/api/v2/credentials/${uuid}/`], ['DELETE', `/api/v2/credentials/${uuid}/`]] as const) {
      const r = await h.api(method, path, method === 'DELETE' ? undefined : { status: 'revoked' });
      expect(r.status, method).toBe(403);
    }
    expect(h.oe.clients.map((c) => c.permissions)).toEqual([['view_usercredential'], ['view_usercredential']]);
    const other = await h.api('POST', '/api/credentials/v1/learner_cert_status/', { username: 'x' }, `JWT ${await h.token(1)}`);
    expect(other.status).toBe(403);
    const t = await startOpenedx({ people: 20, clients: [WRITER, { staff: true }] });
    try {
      expect((await t.api('DELETE', `/api/v2/credentials/${t.oe.data.credentials.uuid[0]}/`)).status).toBe(200);
      expect((await t.api('POST', '/api/credentials/v1/learner_cert_status/', { username: 'x' }, `JWT ${await t.token(1)}`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('faults and certificate pages', () => {
  it('fault repeat_page_rate: a page answers with the previous page\'s results but its own links', async () => {
    const p1 = await h.json<Page>('/api/v2/credentials/');
    await h.control('POST', '/faults', { repeat_page_rate: 1 });
    const p2 = await h.json<Page>('/api/v2/credentials/?page=2');
    await h.control('DELETE', '/faults');
    expect(p2.results).toEqual(p1.results);
    expect(p2.next).toContain('page=3');
    expect(p2.previous).toBe(`${h.base}/api/v2/credentials/`);
  });

  it('injected 5xx and 429 use the DRF error shape {"detail": ...}', async () => {
    await h.control('POST', '/faults', { error_rate: 1, error_status: 503 });
    const e = await h.api('GET', '/api/v2/credentials/');
    await h.control('POST', '/faults', { error_rate: 0, burst_429: 1 });
    const b = await h.api('GET', '/api/v2/credentials/');
    await h.control('DELETE', '/faults');
    expect(e.status).toBe(503);
    expect(await e.json()).toEqual({ detail: 'Simulated server error.' });
    expect(b.status).toBe(429);
    expect(await b.json()).toEqual({ detail: 'Request was throttled.' });
  });

  it('certificate_url (views.py RenderCredential): a page only for awarded program credentials whose visible date has passed; else the HTML 404', async () => {
    const all = await h.walk();
    const data = h.oe.data;
    const rowOf = (uuid: string): number => data.credentials.byUuid.get(uuid) ?? -1;
    const run = all.find((c) => c.credential.type === 'course-run' && c.status === 'awarded');
    const revoked = all.find((c) => c.status === 'revoked');
    const { programVisibleMs } = await import('./pages.ts');
    const shown = all.find((c) => c.credential.type === 'program' && c.status === 'awarded' && (programVisibleMs(data, rowOf(c.uuid)) ?? Infinity) <= h.now());
    // A program credential whose learner holds none of the program's course runs has no visible date.
    const hidden = all.find((c) => c.credential.type === 'program' && c.status === 'awarded' && programVisibleMs(data, rowOf(c.uuid)) === null);
    expect([run, revoked, shown, hidden].every(Boolean)).toBe(true);
    const page = await fetch(shown?.certificate_url ?? '');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain(shown?.uuid);
    for (const c of [run, revoked, hidden]) {
      const r = await fetch(c?.certificate_url ?? '');
      expect(r.status).toBe(404);
      expect(await r.text()).toContain('<h1>Page Not Found</h1>');
    }
  });
});
