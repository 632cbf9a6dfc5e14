/**
 * Falkor's endpoint (story-certificates.txt): `POST <account base>/v1/logs/story-certificates`,
 * `Authorization: Basic <token>`, optional filters, no pagination, and a `hash` of the data.
 */
import { createHash } from 'node:crypto';
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import { makeCertificatePdf } from '../common/pdf.ts';
import { formatWithOffset } from '../common/time.ts';
import type { FalkorAccount, FalkorCertificate } from './model.ts';

export const falkorError = (status: number, message: string): SimResponse => jsonResponse(status, { status: 'error', message });

export interface FalkorFilters {
  app?: string;
  story?: string;
  groups?: string[];
  users?: string[];
}

function parseFilters(body: Buffer): FalkorFilters | string {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    return 'Request body must be valid JSON';
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return 'Request body must be a JSON object';
  const o = input as Record<string, unknown>;
  const out: FalkorFilters = {};
  for (const key of ['app', 'story'] as const) {
    if (o[key] === undefined || o[key] === null) continue;
    if (typeof o[key] !== 'string') return `${key} must be a string (ID or name)`;
    out[key] = o[key];
  }
  for (const key of ['groups', 'users'] as const) {
    if (o[key] === undefined || o[key] === null) continue;
    const v = o[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return `${key} must be an array of strings`;
    out[key] = v as string[];
  }
  return out;
}

export function certificateUrl(origin: string, account: FalkorAccount, cert: FalkorCertificate): string {
  return `${origin}/${account.name}/api/certificates/${cert.uid}`;
}

/** The `data` array for these filters: stories in catalog order, each with its matching certificates. */
export function storyCertificates(account: FalkorAccount, filters: FalkorFilters, origin: string): unknown[] {
  const users = filters.users?.map((u) => u.trim().toLowerCase());
  const groups = filters.groups ? new Set(filters.groups.map((g) => account.groups.indexOf(g)).filter((g) => g >= 0)) : null;
  const app = filters.app === undefined ? null : account.apps.findIndex((a) => a.id === filters.app || a.name === filters.app);
  const byStory = new Map<number, FalkorCertificate[]>();
  for (const cert of account.certificates) {
    if (cert.removed) continue;
    const story = account.stories[cert.story];
    const person = account.people[cert.person];
    if (!story || !person) continue;
    if (app !== null && story.app !== app) continue;
    if (filters.story !== undefined && story.id !== filters.story && story.name !== filters.story) continue;
    if (groups && !person.groups.some((g) => groups.has(g))) continue;
    if (users && !users.includes(person.email.trim().toLowerCase()) && !users.includes(`${person.firstname} ${person.lastname}`.toLowerCase())) continue;
    let list = byStory.get(cert.story);
    if (!list) byStory.set(cert.story, (list = []));
    list.push(cert);
  }
  return [...byStory.keys()]
    .sort((a, b) => a - b)
    .map((storyIndex) => {
      const story = account.stories[storyIndex];
      return {
        story: { name: story?.name, type: story?.type, ID: story?.id },
        certificates: (byStory.get(storyIndex) ?? []).map((cert) => {
          const p = account.people[cert.person];
          return {
            firstname: p?.firstname,
            lastname: p?.lastname,
            email: p?.email,
            telephone: p?.telephone,
            country: p?.country,
            city: p?.city,
            certificate: { timestamp: formatWithOffset(new Date(cert.timestampMs), 'Europe/Oslo'), state: cert.state, url: certificateUrl(origin, account, cert) },
          };
        }),
      };
    });
}

export function falkorRoutes(accounts: FalkorAccount[]): SimRoute[] {
  const find = (req: SimRequest): FalkorAccount | undefined => accounts.find((a) => a.name === req.params.account);
  return [
    {
      method: 'POST',
      path: '/:account/api/v1/logs/story-certificates',
      name: 'POST /v1/logs/story-certificates',
      doc: 'Story certificates of one account; Basic auth with the account token; optional filters app, story, groups[], users[].',
      handle(req) {
        const account = find(req);
        if (!account) return falkorError(404, 'Unknown account');
        if (req.headers.authorization !== `Basic ${account.token}`) return falkorError(401, 'Unauthorized: invalid or missing token');
        const filters = parseFilters(req.body);
        if (typeof filters === 'string') return falkorError(400, filters);
        const data = storyCertificates(account, filters, req.origin);
        const json = JSON.stringify(data);
        // response_time is a function of the answer, not of the wall clock, so same seed -> same bytes.
        const responseTime = 0.05 + json.length / 5e6;
        return jsonResponse(200, { status: 'success', data, hash: createHash('md5').update(json).digest('hex'), response_time: responseTime });
      },
    },
    {
      method: 'GET',
      path: '/:account/api/certificates/:uid',
      name: 'GET certificate permalink',
      doc: 'The certificate permalink (certificate.url): the PDF, no auth.',
      handle(req) {
        const account = find(req);
        const index = account?.byUid.get(req.params.uid ?? '');
        const cert = index === undefined ? undefined : account?.certificates[index];
        if (!account || !cert || cert.removed) return falkorError(404, 'Certificate not found');
        const p = account.people[cert.person];
        const story = account.stories[cert.story];
        return {
          status: 200,
          headers: { 'content-type': 'application/pdf' },
          body: makeCertificatePdf(['Certificate of completion', `${p?.firstname} ${p?.lastname}`, `${story?.name} (${story?.type})`, `Certificate ${cert.uid}`]),
        };
      },
    },
  ];
}
