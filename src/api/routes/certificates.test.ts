import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VALIDITIES, type Certificate } from '../../domain/certificate.ts';
import { sampleCertificate as cert } from '../../store/sample-certificate.testkit.ts';
import type { Source } from '../../store/index.ts';
import { createTestHub, type TestHub } from '../app.testkit.ts';

const NOW = new Date('2025-06-15T12:00:00.000Z');
const T1 = new Date('2025-01-10T10:00:00.000Z');
const T2 = new Date('2025-03-10T10:00:00.000Z');
const T3 = new Date('2025-05-10T10:00:00.000Z');
const NIN = '01019012345';

interface Page {
  items: Certificate[];
  next_cursor: string | null;
}

describe('certificate routes', () => {
  let hub: TestHub;
  let edx: Source;
  let all: Certificate[];
  const byExt = (ext: string): Certificate => {
    const found = all.find((c) => c.external_id === ext);
    if (found === undefined) throw new Error(`no ${ext}`);
    return found;
  };

  beforeAll(async () => {
    hub = await createTestHub({ now: () => NOW });
    edx = await hub.store.sources.upsertSourceFromConfig(hub.a.id, { slug: 'edx', provider: 'openedx', settings: {}, credentials: null });
    await hub.seed(
      hub.a.source,
      [
        cert(1, { valid_until: '2026-01-31' }),
        cert(2, { valid_until: '2025-06-14', issued_at: '2023-01-05T08:00:00.000Z' }),
        cert(3, { valid_from: '2025-07-01', achievement: { type: 'program', external_id: 'P-9', title: 'Fire safety', code: 'FIRE-2' } }),
        cert(4, { status: 'pending' }),
        cert(5, {
          subject: { provider_user_id: 'u-5', email: 'person5@example.com', first_name: 'Ola', last_name: 'Nordmann', date_of_birth: '1990-01-01', national_id: NIN },
          raw: { id: 5, user: { national_identification_number: NIN }, note: `checked NIN ${NIN}` },
        }),
      ],
      { now: T1 },
    );
    await hub.seed(edx, [cert(6, { status: 'revoked' }), cert(7, { status: 'deleted' })], { now: T2 });
    // Certificate 5 revoked later: the as_of reads and the history see both.
    await hub.seed(hub.a.source, [cert(5, { status: 'revoked', raw: { id: 5, user: { national_identification_number: NIN } } })], { now: T3 });
    await hub.seed(hub.b.source, [cert(1), cert(100)], { now: T1 });
    const res = await hub.call('GET', '/v1/certificates?limit=1000', { key: hub.a.readKey });
    expect(res.statusCode).toBe(200);
    all = res.json<Page>().items;
  });
  afterAll(() => hub.close());

  const list = async (query: string, key = hub.a.readKey): Promise<string[]> => {
    const res = await hub.call('GET', `/v1/certificates?${query}`, { key });
    expect(res.statusCode, res.body).toBe(200);
    return res
      .json<Page>()
      .items.map((c) => c.external_id)
      .sort();
  };

  it("lists only the caller's tenant, in (updated_at, id) order, with validity computed today", () => {
    expect(all.map((c) => c.external_id).sort()).toEqual(['ext-1', 'ext-2', 'ext-3', 'ext-4', 'ext-5', 'ext-6', 'ext-7']);
    const order = all.map((c) => `${c.updated_at} ${c.id}`);
    expect(order).toEqual([...order].sort());
    expect(byExt('ext-1').validity).toBe('valid');
    expect(byExt('ext-2').validity).toBe('expired');
    expect(byExt('ext-3').validity).toBe('not_yet_valid');
  });

  it('filters by person, email, source, provider, status and achievement', async () => {
    expect(await list(`person=${byExt('ext-3').person_id}`)).toEqual(['ext-3']);
    expect(await list('email=PERSON3@example.com')).toEqual(['ext-3']);
    expect(await list('email=nobody@example.com')).toEqual([]);
    expect(await list('source=edx')).toEqual(['ext-6', 'ext-7']);
    expect(await list('source=edx&source=frontcore-main')).toHaveLength(7);
    expect(await list('source=edx,frontcore-main&status=revoked')).toEqual(['ext-5', 'ext-6']);
    expect(await list('provider=openedx')).toEqual(['ext-6', 'ext-7']);
    expect(await list('provider=frontcore&provider=openedx&status=pending&status=deleted')).toEqual(['ext-4', 'ext-7']);
    expect(await list('achievement_type=program')).toEqual(['ext-3']);
    expect(await list('achievement=SAFE-101&source=edx')).toEqual(['ext-6', 'ext-7']);
    expect(await list('achievement_code=FIRE-2')).toEqual(['ext-3']);
    expect(await list(`person=${byExt('ext-3').person_id}&achievement_code=SAFE-101`)).toEqual([]);
  });

  it('filters by issued, valid_until and updated time', async () => {
    expect(await list('issued_before=2024-01-01T00:00:00Z')).toEqual(['ext-2']);
    expect(await list('issued_from=2024-01-01T00:00:00%2B01:00&source=edx')).toEqual(['ext-6', 'ext-7']);
    expect(await list('valid_until_from=2025-06-14')).toEqual(['ext-1', 'ext-2']);
    expect(await list('valid_until_from=2025-06-15')).toEqual(['ext-1']);
    expect(await list('valid_until_before=2025-06-15')).toEqual(['ext-2']);
    expect(await list(`updated_since=${T2.toISOString()}`)).toEqual(['ext-5', 'ext-6', 'ext-7']);
    expect(await list(`updated_since=${T3.toISOString()}`)).toEqual(['ext-5']);
  });

  it('filters by validity in SQL exactly as the validity field says', async () => {
    for (const v of VALIDITIES) {
      expect(await list(`validity=${v}`), v).toEqual(all.filter((c) => c.validity === v).map((c) => c.external_id).sort());
    }
    expect(new Set(all.map((c) => c.validity))).toEqual(new Set(VALIDITIES));
    expect(await list('validity=expired,not_yet_valid')).toEqual(['ext-2', 'ext-3']);
  });

  it('refuses bad filters with 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['source=nope', 'query.source'],
      ['limit=0', 'query.limit'],
      ['limit=1001', 'query.limit'],
      ['validity=fine', 'query.validity'],
      ['status=gone', 'query.status'],
      ['provider=moodle', 'query.provider'],
      ['achievement_type=badge', 'query.achievement_type'],
      ['issued_from=yesterday', 'query.issued_from'],
      ['valid_until_before=2025-02-30', 'query.valid_until_before'],
      ['updated_since=2025-13-01T00:00:00Z', 'query.updated_since'],
      ['as_of=soon', 'query.as_of'],
      ['email=not-an-email', 'query.email'],
      ['cursor=garbage', 'query.cursor'],
    ];
    for (const [query, field] of cases) {
      const res = await hub.call('GET', `/v1/certificates?${query}`, { key: hub.a.readKey });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('invalid_request');
      // The field, or one value of it (`query.validity.0: ...`).
      expect(res.json().error.message, query).toMatch(new RegExp(`^${field.replace('.', '\\.')}(\\.\\d+)?: `));
    }
    const unknown = await hub.call('GET', '/v1/certificates?source=nope', { key: hub.a.readKey });
    expect(unknown.json().error.message).toContain('nope');
  });

  it('walks every page exactly once, keeping the filters', async () => {
    const walk = async (filters: string, limit: number): Promise<string[]> => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await hub.call('GET', `/v1/certificates?limit=${limit}${filters}${cursor === null ? '' : `&cursor=${cursor}`}`, { key: hub.a.readKey });
        expect(res.statusCode).toBe(200);
        const page = res.json<Page>();
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.next_cursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(Math.max(1, Math.ceil(seen.length / limit)));
      return seen;
    };
    expect(await walk('', 2)).toEqual(all.map((c) => c.id));
    expect(await walk('', 1)).toEqual(all.map((c) => c.id));
    const frontcore = await walk('&source=frontcore-main', 2);
    expect(frontcore).toEqual(all.filter((c) => c.source === 'frontcore-main').map((c) => c.id));
  });

  it('answers as of an instant with the version then, for one certificate and for lists', async () => {
    const five = byExt('ext-5');
    expect(five.status).toBe('revoked');
    const between = new Date((T2.getTime() + T3.getTime()) / 2).toISOString();
    const then = await hub.call('GET', `/v1/certificates/${five.id}?as_of=${between}`, { key: hub.a.readKey });
    expect(then.statusCode).toBe(200);
    expect(then.json()).toMatchObject({ id: five.id, status: 'awarded', validity: 'valid', updated_at: T1.toISOString() });
    const now = await hub.call('GET', `/v1/certificates/${five.id}`, { key: hub.a.readKey });
    expect(now.json()).toMatchObject({ status: 'revoked', validity: 'revoked', updated_at: T3.toISOString() });

    expect(await list(`as_of=${between}&status=revoked`)).toEqual(['ext-6']);
    // ext-2 expired on 2025-06-14: still valid then. ext-3 starts 2025-07-01.
    expect(await list(`as_of=${between}&validity=valid`)).toEqual(['ext-1', 'ext-2', 'ext-5']);
    expect(await list(`as_of=${between}&validity=not_yet_valid`)).toEqual(['ext-3']);
    // Before the edX source's certificates were first seen they are absent.
    expect(await list(`as_of=${new Date(T2.getTime() - 1000).toISOString()}`)).toEqual(['ext-1', 'ext-2', 'ext-3', 'ext-4', 'ext-5']);
    const before = await hub.call('GET', `/v1/certificates/${five.id}?as_of=2024-01-01`, { key: hub.a.readKey });
    expect(before.statusCode).toBe(404);
    expect(before.json().error.code).toBe('not_found');

    // Pages as of an instant walk every certificate once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await hub.call('GET', `/v1/certificates?as_of=${between}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, { key: hub.a.readKey });
      const page = res.json<Page>();
      seen.push(...page.items.map((c) => c.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect([...seen].sort()).toEqual(all.map((c) => c.id).sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('gives the history oldest first, without national ids or source secrets', async () => {
    const five = byExt('ext-5');
    const res = await hub.call('GET', `/v1/certificates/${five.id}/history`, { key: hub.a.readKey });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { version: number; status: string; recorded_at: string; raw: unknown }[];
    expect(items.map((v) => [v.version, v.status, v.recorded_at])).toEqual([
      [1, 'awarded', T1.toISOString()],
      [2, 'revoked', T3.toISOString()],
    ]);
    expect(items[0]!.raw).toMatchObject({ id: 5, user: { national_identification_number: '[national_id redacted]' } });
    expect(res.body).not.toContain(NIN);
    expect(res.body).not.toContain('010190');
    const creds = await hub.store.sources.getSourceCredentials(hub.a.source.tenant_id, hub.a.source.id);
    expect(res.body).not.toContain(String(creds?.api_key));
    const one = await hub.call('GET', `/v1/certificates/${five.id}`, { key: hub.a.readKey });
    expect(one.body).not.toContain(NIN);
  });

  it("answers 404 for another tenant's certificate on every route, exactly like an unknown id", async () => {
    const theirs = (await hub.call('GET', '/v1/certificates?limit=1000', { key: hub.b.readKey })).json<Page>().items;
    expect(theirs.map((c) => c.external_id).sort()).toEqual(['ext-1', 'ext-100']);
    for (const c of theirs) {
      for (const suffix of ['', '?as_of=2030-01-01T00:00:00Z', '/history', '/file']) {
        for (const id of [c.id, 'no-such-certificate']) {
          const res = await hub.call('GET', `/v1/certificates/${id}${suffix}`, { key: hub.a.adminKey });
          expect(res.statusCode, `${suffix} ${id}`).toBe(404);
          expect(res.json().error.code).toBe('not_found');
          expect(res.body).not.toContain(c.external_id === 'ext-100' ? 'ext-100' : 'person1@');
        }
      }
      // Their own key reads it.
      expect((await hub.call('GET', `/v1/certificates/${c.id}`, { key: hub.b.readKey })).statusCode).toBe(200);
    }
    expect(await list(`person=${theirs[0]!.person_id}`)).toEqual([]);
  });

  it('answers 404 for a file the provider does not offer, and needs a key', async () => {
    const pending = byExt('ext-6');
    await hub.store.certificates.savePage(edx.id, [cert(8, { file: { available: false } })], null);
    const noFile = (await hub.store.certificates.getCertificateByExternalId(edx.tenant_id, edx.id, 'ext-8'))!;
    const res = await hub.call('GET', `/v1/certificates/${noFile.id}/file`, { key: hub.a.readKey });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'not_found', message: expect.stringContaining('no file') as string });
    expect((await hub.call('GET', `/v1/certificates/${pending.id}`)).statusCode).toBe(401);
    // Without a connector (this hub has none), a file that has to be fetched is the provider's 502.
    const fetchable = await hub.call('GET', `/v1/certificates/${pending.id}/file`, { key: hub.a.readKey });
    expect(fetchable.statusCode).toBe(502);
    expect(fetchable.json().error.code).toBe('provider_unavailable');
  });
});
