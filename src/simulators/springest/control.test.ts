/** Springest simulator: control routes, ground truth, determinism, country hosts, compact serving. */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCertificatePdf } from '../common/pdf.ts';
import type { TruthCertificate } from '../common/truth.ts';
import { createSpringestSimulator } from './index.ts';
import { certificatesBody, presentCertificate } from './present.ts';
import { AS_OF, normalizeServed, startSpringest, testWorld, type Harness } from './springest.testkit.ts';

let h: Harness;
beforeEach(async () => {
  h = await startSpringest();
});
afterEach(() => h.close());

const truthNow = async (): Promise<TruthCertificate[]> => (await (await h.control('GET', '/truth')).json()) as TruthCertificate[];
const verifiedId = (requires: boolean): number => h.sp.host.certifications.find((c) => c.verified && c.requires_valid_until === requires)?.id ?? 0;

describe('ground truth', () => {
  it('equals what GET /users/certificates serves, normalized by an independent mapping, sorted by external_id', async () => {
    // Make every status appear first.
    const [a, b] = await h.list();
    await h.control('PATCH', `/certificates/${a?.id}`, { status: 'pending' });
    await h.control('PATCH', `/certificates/${b?.id}`, { status: 'rejected' });
    const served = (await h.list()).map(normalizeServed).sort((x, y) => (x.external_id < y.external_id ? -1 : 1));
    const truth = await truthNow();
    expect(truth.map(({ person_key: _k, ...t }) => t)).toEqual(served);
    expect(new Set(truth.map((t) => t.status))).toEqual(new Set(['awarded', 'pending', 'revoked']));
    expect(truth).toEqual(h.sp.truth());
  });

  it('person_key names the world person behind each certificate, whose email it is (as Springest spells it)', () => {
    for (const t of h.sp.truth()) {
      const person = h.world.people.find((p) => p.key === t.person_key);
      expect(person && h.world.emailFor(person, 'springest')).toBe(t.subject.email);
      expect(person?.providers.has('springest')).toBe(true);
    }
  });
});

describe('control routes', () => {
  it('POST /__sim/certificates adds one for a world person, an email, or a new address; it shows in the API and the truth with created_at = now', async () => {
    const outsider = h.world.people.find((p) => !p.providers.has('springest'));
    const viaPerson = await h.control('POST', '/certificates', { person_key: outsider?.key, certification_id: verifiedId(true), valid_from: '2026-05-01' });
    expect(viaPerson.status).toBe(201);
    const added = (await viaPerson.json()) as { id: number; created_at: string; valid_until: string; user: { external_id: string } };
    expect(added.created_at).toBe('2026-06-02T10:00:00Z');
    expect(added.valid_until > '2026-05-01').toBe(true);
    const viaEmail = (await (await h.control('POST', '/certificates', { email: 'Brand.New@Example.com', certification_id: verifiedId(false), valid_from: AS_OF, valid_until: null, status: 'pending' })).json()) as { id: number };
    const served = await h.list();
    expect(served.map((c) => c.id)).toEqual(expect.arrayContaining([added.id, viaEmail.id]));
    const truth = h.sp.truth();
    expect(truth.find((t) => t.external_id === String(added.id))?.person_key).toBe(outsider?.key);
    expect(truth.find((t) => t.external_id === String(viaEmail.id))).toMatchObject({ person_key: 'new:brand.new@example.com', status: 'pending', subject: { email: 'Brand.New@Example.com' } });
    for (const bad of [{ person_key: 'p999999', certification_id: verifiedId(false), valid_from: AS_OF }, { person_key: outsider?.key, certification_id: 1, valid_from: AS_OF }, { email: 'x@y.z', certification_id: verifiedId(true), valid_from: AS_OF, valid_until: null }, { email: 'x@y.z', certification_id: verifiedId(false), valid_from: AS_OF, status: 'lost' }]) {
      expect((await h.control('POST', '/certificates', bad)).status).toBe(400);
    }
  });

  it('PATCH /__sim/certificates/:id changes dates, status and certification, stamps updated_at with the clock; the API and truth follow', async () => {
    const [first] = await h.list();
    const other = h.sp.host.certifications.find((c) => c.verified && c.id !== first?.certification_id);
    h.advance(3_600_000);
    const r = await h.control('PATCH', `/certificates/${first?.id}`, { valid_from: '2026-01-01', valid_until: '2027-01-01', status: 'rejected', certification_id: other?.id });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ updated_at: '2026-06-02T11:00:00Z', visible: true, created_at: first?.created_at });
    const [served] = await h.list(`&email=${encodeURIComponent(first?.user.email ?? '')}&certification_id=${other?.id}`);
    expect(served).toMatchObject({ id: first?.id, valid_from: '2026-01-01', valid_until: '2027-01-01', status: 'rejected', name: other?.name });
    expect(h.sp.truth().find((t) => t.external_id === String(first?.id))).toMatchObject({ status: 'revoked', valid_until: '2027-01-01', achievement: { external_id: String(other?.id) } });
    expect((await h.control('PATCH', `/certificates/${first?.id}`, { valid_from: null })).status).toBe(400);
    expect((await h.control('PATCH', '/certificates/1', {})).status).toBe(404);
  });

  it('DELETE /__sim/certificates/:id removes it from the API and the truth', async () => {
    const [first] = await h.list();
    expect((await h.control('DELETE', `/certificates/${first?.id}`)).status).toBe(200);
    expect((await h.list()).some((c) => c.id === first?.id)).toBe(false);
    expect(h.sp.truth().some((t) => t.external_id === String(first?.id))).toBe(false);
    expect((await h.control('DELETE', `/certificates/${first?.id}`)).status).toBe(404);
  });

  it('certifications: unverify hides their certificates, verify shows them, PATCH renames (every certificate\'s title)', async () => {
    const id = (await h.list())[0]?.certification_id;
    const count = (await h.list(`&certification_id=${id}`)).length;
    await h.control('POST', `/certifications/${id}/unverify`);
    expect(await h.list(`&certification_id=${id}`)).toEqual([]);
    expect(((await (await h.get(`/certifications?api_key=${h.certificationsKey}`)).json()) as { certifications: { id: number }[] }).certifications.some((c) => c.id === id)).toBe(false);
    await h.control('POST', `/certifications/${id}/verify`);
    await h.control('PATCH', `/certifications/${id}`, { name: 'VCA Basis 2026' });
    const back = await h.list(`&certification_id=${id}`);
    expect(back.length).toBe(count);
    expect(new Set(back.map((c) => c.name))).toEqual(new Set(['VCA Basis 2026']));
    expect(h.sp.truth().filter((t) => t.achievement.external_id === String(id)).every((t) => t.achievement.title === 'VCA Basis 2026')).toBe(true);
    expect((await h.control('POST', '/certifications/1/verify')).status).toBe(404);
  });

  it('verifying a certification later shows its old certificates with their old created_at: created_from alone misses them, a full read does not', async () => {
    const hidden = h.sp.host.certifications.find((c) => !c.verified);
    const before = (await h.list()).length;
    h.advance(86_400_000);
    await h.control('POST', `/certifications/${hidden?.id}/verify`);
    const appeared = await h.list(`&certification_id=${hidden?.id}`);
    expect(appeared.length).toBeGreaterThan(0);
    expect(appeared.every((c) => c.created_at < '2026-06-02')).toBe(true);
    expect(await h.list('&created_from=2026-06-02')).toEqual([]);
    expect((await h.list()).length).toBe(before + appeared.length);
  });

  it('GET /__sim/posted and /__sim/certificates/:id/pdf: what certhub pushed, with sha256, byte length, conversion_id and the very bytes', async () => {
    const pdf = makeCertificatePdf(['Certificate', 'Kari Nordmann', 'ITIL 4 Foundation']);
    const r = await h.post({ certification_id: String(verifiedId(false)), email: 'kari@example.com', valid_from: AS_OF, conversion_id: '12' }, pdf);
    const { certificate } = (await r.json()) as { certificate: { id: number } };
    const posted = (await (await h.control('GET', '/posted')).json()) as { id: number; visible: boolean; file: unknown }[];
    expect(posted).toEqual([expect.objectContaining({ id: certificate.id, visible: true, file: { sha256: createHash('sha256').update(pdf).digest('hex'), bytes: pdf.length, conversion_id: 12 } })]);
    const back = Buffer.from(await (await h.control('GET', `/certificates/${certificate.id}/pdf`)).arrayBuffer());
    expect(back.equals(pdf)).toBe(true);
  });

  it('generated certificates have real, distinct PDFs made on demand', async () => {
    const [a, b] = await h.list();
    const fa = await h.control('GET', `/certificates/${a?.id}/pdf`);
    expect(fa.headers.get('content-type')).toBe('application/pdf');
    const pa = Buffer.from(await fa.arrayBuffer());
    const pb = Buffer.from(await (await h.control('GET', `/certificates/${b?.id}/pdf`)).arrayBuffer());
    expect(pa.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pa.toString('latin1')).toContain(String(a?.id));
    expect(pa.equals(pb)).toBe(false);
  });
});

describe('determinism, hosts, serving', () => {
  it('same seed -> the same responses byte for byte; another seed -> other data', async () => {
    const twin = await startSpringest();
    const other = await startSpringest({ seed: 'another-seed' });
    try {
      for (const path of ['/users/certificates?api_key=KEY', '/users/certificates?api_key=KEY&created_from=2025-01-01']) {
        const a = await (await h.get(path.replace('KEY', h.key))).text();
        expect(await (await twin.get(path.replace('KEY', twin.key))).text()).toBe(a);
        expect(await (await other.get(path.replace('KEY', other.key))).text()).not.toBe(a);
      }
      expect(await (await twin.get(`/certifications?api_key=${twin.certificationsKey}`)).text()).toBe(await (await h.get(`/certifications?api_key=${h.certificationsKey}`)).text());
      expect([twin.key, twin.certificationsKey]).toEqual([h.key, h.certificationsKey]);
      expect(JSON.stringify(twin.sp.truth())).toBe(JSON.stringify(h.sp.truth()));
    } finally {
      await twin.close();
      await other.close();
    }
  });

  it('one instance per country host: own keys, certifications, people subset and zone; sourceConfigs name it', async () => {
    const world = testWorld();
    const nl = createSpringestSimulator({ world });
    const de = createSpringestSimulator({ world, country: 'de' });
    expect(de.host.apiKey).not.toBe(nl.host.apiKey);
    expect(de.host.timeZone).toBe('Europe/Berlin');
    expect(nl.host.timeZone).toBe('Europe/Amsterdam');
    const people = (s: typeof nl): Set<string> => new Set(s.host.users.map((u) => u.personKey));
    expect(people(de).size).toBeLessThan(people(nl).size);
    expect([...people(de)].every((k) => people(nl).has(k))).toBe(true);
    expect(() => createSpringestSimulator({ world, country: 'xx' })).toThrow(/unknown Springest country/);
    await de.sim.listen(0);
    try {
      expect(de.sourceConfigs()).toEqual([{ id: 'springest-de', provider: 'springest', base_url: de.sim.url(), api_key: de.host.apiKey, certifications_api_key: de.host.certificationsKey }]);
    } finally {
      await de.sim.close();
    }
  });

  it('the served text is exactly JSON.stringify of each certificate (the fast writer never drifts)', () => {
    const host = h.sp.host;
    const rows = Array.from({ length: host.certificates.length }, (_, i) => i);
    expect(certificatesBody(host, rows).toString('utf8')).toBe(JSON.stringify({ certificates: rows.map((r) => presentCertificate(host, r)) }));
    expect(certificatesBody(host, []).toString('utf8')).toBe('{"certificates":[]}');
  });
});
