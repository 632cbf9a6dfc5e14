/**
 * A provider whose runs succeed with warnings, for tests of how warnings reach people (the CLI, the API, the web UI)
 * without depending on a real connector: `warn-badges` reads `GET /badges?page=N` from a tiny node:http fake, two pages,
 * and says per page how many badges it left untitled (the fake's catalog "did not answer") and how many have no file.
 * Register it with registerWarningProvider() (the registry is per process); `register-warning-provider.testkit.ts`
 * does that in a spawned `certhub` (node --import).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { httpUrl, secret } from '../config/fields.ts';
import type { NormalizedCertificate } from '../domain/certificate.ts';
import { resolvedConfigSchema, type Provider, type RunWarning } from '../providers/provider.ts';
import { findProvider, registerProvider } from '../providers/registry.ts';

export const WARNING_PROVIDER_ID = 'warn-badges';
export const WARNING_PLATFORM_TOKEN = 'warn-token-7d2a41';

export const UNTITLED_MESSAGE = 'achievements left untitled: the catalog did not answer';
export const NO_FILE_MESSAGE = 'certificates without a downloadable file';

interface Badge {
  id: string;
  learner: string;
  course: string;
  /** Null: the catalog did not answer for it. */
  title: string | null;
  awarded: string;
  pdf: boolean;
}

/**
 * The two pages the fake answers: 5 + 7 = 12 untitled badges, 3 without a file (all on page 1); a run over them
 * reports `untitled_achievements` 12 and `no_file` 3.
 */
export const WARNING_PAGES: readonly (readonly Badge[])[] = [
  Array.from({ length: 8 }, (_, i) => ({
    id: `w-${i + 1}`,
    learner: `learner${i + 1}@example.com`,
    course: `COURSE-${i % 3}`,
    title: i < 5 ? null : `Course ${i % 3}`,
    awarded: '2026-03-01',
    pdf: i >= 3,
  })),
  Array.from({ length: 7 }, (_, i) => ({
    id: `w-${i + 9}`,
    learner: `learner${i + 9}@example.com`,
    course: `COURSE-${i % 3}`,
    title: null,
    awarded: '2026-04-15',
    pdf: true,
  })),
];

/** The fake platform: `GET /badges?page=N` (1-based) behind a bearer token. */
export function startWarningPlatform(): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${WARNING_PLATFORM_TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const page = Number(url.searchParams.get('page') ?? '1');
    const badges = WARNING_PAGES[page - 1];
    if (url.pathname !== '/badges' || badges === undefined) {
      res.writeHead(404).end();
      return;
    }
    const next = page < WARNING_PAGES.length ? page + 1 : null;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ badges, next }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  );
}

const settings = { base_url: httpUrl(), token: secret() };
const configSchema = resolvedConfigSchema(settings);
const pageSchema = z.object({
  badges: z.array(
    z.object({ id: z.string(), learner: z.string(), course: z.string(), title: z.string().nullable(), awarded: z.string(), pdf: z.boolean() }),
  ),
  next: z.number().nullable(),
});

function toCertificate(b: Badge): NormalizedCertificate {
  return {
    external_id: b.id,
    status: 'awarded',
    subject: { provider_user_id: b.learner, email: b.learner, first_name: null, last_name: null, date_of_birth: null },
    achievement: { type: 'course', external_id: b.course, title: b.title, code: b.course },
    issued_at: `${b.awarded}T00:00:00.000Z`,
    valid_from: b.awarded,
    valid_until: null,
    serial: null,
    file: { available: false },
    raw: b,
  };
}

/** A page's warnings: what it could not do fully, counted (none when it did everything). */
function warningsOf(badges: readonly Badge[]): RunWarning[] {
  const untitled = badges.filter((b) => b.title === null).length;
  const noFile = badges.filter((b) => !b.pdf).length;
  return [
    ...(untitled > 0 ? [{ code: 'untitled_achievements', message: UNTITLED_MESSAGE, count: untitled }] : []),
    ...(noFile > 0 ? [{ code: 'no_file', message: NO_FILE_MESSAGE, count: noFile }] : []),
  ];
}

export const warningProvider: Provider<z.output<typeof configSchema>> = {
  id: WARNING_PROVIDER_ID,
  title: 'Badges with warnings (test)',
  settings,
  configSchema,
  secrets: [['token']],
  form: [
    { name: 'base_url', label: 'Base URL' },
    { name: 'token', label: 'API token' },
  ],
  completeness: 'full-scan',
  async *pull(ctx) {
    let page: number | null = 1;
    const total = WARNING_PAGES.reduce((n, p) => n + p.length, 0);
    let done = 0;
    while (page !== null) {
      const res = await ctx.http.request({
        method: 'GET',
        url: `${ctx.config.base_url}/badges?page=${page}`,
        endpoint: 'GET /badges',
        headers: { authorization: `Bearer ${ctx.config.token}` },
        signal: ctx.signal,
      });
      const body = pageSchema.parse(res.data);
      done += body.badges.length;
      page = body.next;
      yield {
        certificates: body.badges.map(toCertificate),
        // A full scan's last checkpoint starts the next run from the top (provider.ts).
        checkpoint: page === null ? {} : { page },
        progress: { done, total },
        warnings: warningsOf(body.badges),
      };
    }
  },
};

/** Adds `warn-badges` to this process's registry, once. */
export function registerWarningProvider(): void {
  if (findProvider(WARNING_PROVIDER_ID) === null) registerProvider(warningProvider);
}
