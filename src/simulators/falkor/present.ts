/**
 * Falkor's answer, exactly as the doc's example shapes it:
 * `{"status":"success","data":[{"story":{"name","type","ID"},"certificates":[{firstname, lastname,
 * email, telephone, country, city, certificate:{timestamp, state, url}}]}],"hash","response_time"}`.
 * The `data` array is written straight into byte chunks (byte for byte JSON.stringify of storyBlocks,
 * a test checks) and hashed on the way, so a quarter of a million certificates need neither as many
 * objects nor one huge string.
 */
import { createHash } from 'node:crypto';
import { makeCertificatePdf } from '../common/pdf.ts';
import type { StorySelection } from './filters.ts';
import { STATES, type FalkorAccount } from './model.ts';
import type { OsloFormat } from './oslo.ts';

export interface CertificateItemJson {
  firstname: string;
  lastname: string;
  email: string;
  telephone: string;
  country: string;
  city: string;
  certificate: { timestamp: string; state: string; url: string };
}

export interface StoryBlockJson {
  story: { name: string; type: string; ID: string };
  certificates: CertificateItemJson[];
}

/** The `data` array as objects (tests and small answers; the server writes bytes with dataBody). */
export function storyBlocks(account: FalkorAccount, selection: StorySelection[], origin: string, fmt: OsloFormat): StoryBlockJson[] {
  const t = account.table;
  return selection.map(({ story, rows }) => {
    const s = account.stories[story];
    if (!s) throw new Error(`story ${story} of ${account.name} does not exist`);
    return {
      story: { name: s.name, type: s.type, ID: s.id },
      certificates: Array.from(rows, (row) => {
        const p = account.people[t.learner[row] as number];
        if (!p) throw new Error(`certificate row ${row} of ${account.name} has no learner`);
        return {
          firstname: p.firstname,
          lastname: p.lastname,
          email: p.email,
          telephone: p.telephone,
          country: p.country,
          city: p.city,
          certificate: { timestamp: fmt.timestamp(t.timestamp[row] as number), state: STATES[t.state[row] as number] ?? 'delivered', url: account.permalink(origin, row) },
        };
      }),
    };
  });
}

/**
 * Bytes written into 1 MiB chunks and hashed chunk by chunk. Learner parts hold Norwegian letters:
 * they are encoded once per answer and copied; the rest of a row is ASCII, written as latin1.
 */
function createByteSink(): { bytes(b: Buffer): void; ascii(s: string): void; end(): { chunks: Buffer[]; bytes: number; hash: string } } {
  const SIZE = 1 << 20;
  const md5 = createHash('md5');
  const chunks: Buffer[] = [];
  let total = 0;
  let buf = Buffer.allocUnsafe(SIZE);
  let at = 0;
  const flush = (): void => {
    if (at === 0) return;
    const chunk = buf.subarray(0, at);
    md5.update(chunk);
    chunks.push(chunk);
    total += at;
    buf = Buffer.allocUnsafe(SIZE);
    at = 0;
  };
  const room = (n: number): void => {
    if (at + n <= buf.length) return;
    flush();
    if (n > buf.length) buf = Buffer.allocUnsafe(n);
  };
  return {
    bytes(b) {
      room(b.length);
      buf.set(b, at);
      at += b.length;
    },
    ascii(s) {
      room(s.length);
      at += buf.write(s, at, 'latin1');
    },
    end() {
      flush();
      return { chunks, bytes: total, hash: md5.digest('hex') };
    },
  };
}

/** The `data` array as UTF-8 chunks and the md5 hex of exactly those bytes (the answer's `hash`). */
export function dataBody(account: FalkorAccount, selection: StorySelection[], origin: string, fmt: OsloFormat): { chunks: Buffer[]; bytes: number; hash: string } {
  const t = account.table;
  const sink = createByteSink();
  const learnerParts = new Array<Buffer | undefined>(account.people.length);
  const urlHead = `,"url":${JSON.stringify(`${origin}${account.basePath}/certificates/`).slice(0, -1)}`;
  if (!/^[\x20-\x7e]*$/.test(urlHead)) throw new Error(`origin ${origin} is not ASCII`);
  const stateParts = STATES.map((state) => `","state":"${state}"${urlHead}`);
  sink.ascii('[');
  selection.forEach(({ story, rows }, i) => {
    const s = account.stories[story];
    if (!s) throw new Error(`story ${story} of ${account.name} does not exist`);
    sink.bytes(Buffer.from(`${i > 0 ? ',' : ''}{"story":{"name":${JSON.stringify(s.name)},"type":${JSON.stringify(s.type)},"ID":${JSON.stringify(s.id)}},"certificates":[`));
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k] as number;
      const l = t.learner[row] as number;
      let part = learnerParts[l];
      if (part === undefined) {
        const p = account.people[l];
        if (!p) throw new Error(`certificate row ${row} of ${account.name} has no learner`);
        part = learnerParts[l] = Buffer.from(
          `{"firstname":${JSON.stringify(p.firstname)},"lastname":${JSON.stringify(p.lastname)},"email":${JSON.stringify(p.email)},"telephone":${JSON.stringify(p.telephone)},"country":${JSON.stringify(p.country)},"city":${JSON.stringify(p.city)},"certificate":{"timestamp":"`,
        );
      }
      if (k > 0) sink.ascii(',');
      sink.bytes(part);
      sink.ascii(`${fmt.timestamp(t.timestamp[row] as number)}${stateParts[t.state[row] as number]}${account.uidOf(row)}"}}`);
    }
    sink.ascii(']}');
  });
  sink.ascii(']');
  return sink.end();
}

/**
 * The whole answer, in one copy. `response_time` (seconds, a float in the doc) is a function of the
 * answer's size, not of the wall clock, so that the same seed gives the same bytes.
 */
export function answerBody(data: { chunks: Buffer[]; bytes: number; hash: string }): Buffer {
  const responseTime = 0.02 + data.bytes / 2e7;
  const head = Buffer.from('{"status":"success","data":');
  const tail = Buffer.from(`,"hash":"${data.hash}","response_time":${responseTime}}`);
  return Buffer.concat([head, ...data.chunks, tail], head.length + data.bytes + tail.length);
}

/** The PDF behind a permalink: distinct per certificate (holder, story, state, date, id). */
export function certificatePdf(account: FalkorAccount, row: number, fmt: OsloFormat): Buffer {
  const t = account.table;
  const p = account.people[t.learner[row] as number];
  const s = account.stories[t.story[row] as number];
  const app = s ? account.apps[s.app] : undefined;
  const delivered = t.state[row] === 0;
  return makeCertificatePdf([
    `Certificate - ${s?.type ?? 'Story'}`,
    `${p?.firstname ?? ''} ${p?.lastname ?? ''}`.trim(),
    `has completed "${s?.name ?? ''}"`,
    `${app?.name ?? account.name}, ${fmt.localDate(t.timestamp[row] as number)}${delivered ? '' : ' (pending)'}`,
    `Story ID ${s?.id ?? ''}`,
    `Certificate ${account.uidOf(row)}`,
  ]);
}
