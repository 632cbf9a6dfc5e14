import { sql, type Expression, type SqlBool } from 'kysely';
import {
  ACHIEVEMENT_TYPES,
  type AchievementType,
  type Certificate,
  type CertificateStatus,
  type ProviderId,
  type Validity,
} from '../domain/certificate.ts';
import { matches, type AchievementMatcher } from '../domain/requirement.ts';
import { calendarDate, DEFAULT_TIME_ZONE } from '../domain/validity.ts';
import {
  toCertificate,
  toCertificateVersion,
  type CertificateVersion,
  type CertificateViewRow,
  type ReadOptions,
} from './certificate-row.ts';
import { chunk, VALUES_PER_LIST, type StoreContext } from './context.ts';
import { CERTIFICATE_CURSOR, decodeKeyCursor, encodeKeyCursor, type KeyPosition } from './cursor.ts';

export interface CertificateFilter {
  source_ids?: readonly string[];
  providers?: readonly ProviderId[];
  person_id?: string;
  /** Linked to any of these people (e.g. everyone holding an email identity); an empty list matches nothing. */
  person_ids?: readonly string[];
  statuses?: readonly CertificateStatus[];
  /**
   * Any of these validities at the read's `now` (or `asOf`) in its time zone: the rule of domain/validity.ts in SQL,
   * so a filtered page agrees with the `validity` field of its items.
   */
  validities?: readonly Validity[];
  achievement_type?: AchievementType;
  achievement_external_id?: string;
  achievement_code?: string;
  /** valid_until >= this date (YYYY-MM-DD); certificates without an end date do not match. */
  valid_until_from?: string;
  /** valid_until < this date (YYYY-MM-DD); certificates without an end date do not match. */
  valid_until_before?: string;
  /** updated_at >= this ISO instant. */
  updated_since?: string;
  /** issued_at >= this ISO instant. */
  issued_from?: string;
  /** issued_at < this ISO instant. */
  issued_before?: string;
}

export interface PageRequest {
  /** Default 100, at most 1000 (larger values are capped). */
  limit?: number;
  /** next_cursor of the previous page. */
  cursor?: string | null;
}

export interface CertificatePage {
  items: Certificate[];
  /** Null on the last page. */
  next_cursor: string | null;
}

export interface AsOfReadOptions extends ReadOptions {
  /**
   * ISO instant: answer with what the store knew then, from the stored versions (each certificate as its latest
   * version recorded at or before it; certificates first seen later are absent). `validity` is computed at this
   * instant unless `now` says otherwise. The certificate-to-person link is today's (links are not versioned).
   */
  asOf?: string;
}

/** Awarded certificates whose own end date (valid_until) falls in a window of days. */
export interface EndingFilter {
  /** First day of the window (YYYY-MM-DD, inclusive). */
  from: string;
  /** Last day of the window (inclusive). */
  to: string;
  /** Only certificates started by this day: valid_from null or not after it. */
  started_by: string;
  /** A source id (slug) as configured. */
  source?: string;
  provider?: ProviderId;
}

/** Position after the last row of a page in (valid_until, id) order. */
export interface EndingCursor {
  valid_until: string;
  id: string;
}

export interface CertificateReader {
  getCertificate(tenantId: string, id: string, opts?: AsOfReadOptions): Promise<Certificate | null>;
  /** Every certificate of these people (any number of ids; read in chunks), ordered by person then id. */
  listCertificatesByPeople(tenantId: string, personIds: readonly string[], opts?: AsOfReadOptions): Promise<Certificate[]>;
  getCertificateByExternalId(tenantId: string, sourceId: string, externalId: string, opts?: ReadOptions): Promise<Certificate | null>;
  listCertificatesByPerson(tenantId: string, personId: string, opts?: ReadOptions): Promise<Certificate[]>;
  /**
   * Filtered, in (updated_at, id) order. Every row is returned exactly once across pages while rows are only
   * inserted meanwhile (new rows sort last); a row updated meanwhile moves to the end and is returned again there.
   */
  listCertificates(
    tenantId: string,
    filter?: CertificateFilter,
    page?: PageRequest,
    opts?: AsOfReadOptions,
  ): Promise<CertificatePage>;
  /**
   * Oldest first; version 1 is the certificate as first seen. With `tenantId`, a certificate of another tenant has
   * no versions (an empty list, as for an unknown id).
   */
  listCertificateVersions(tenantId: string, certificateId: string): Promise<CertificateVersion[]>;
  /** The provider payload last stored for the certificate (national ids scrubbed), or null when the tenant has no such certificate. */
  getCertificateRaw(tenantId: string, id: string): Promise<{ raw: unknown } | null>;
  /**
   * Every certificate of the tenant that matches any of the matchers (domain `matches`), linked to a person or not,
   * read through the achievement index rather than the whole table: an external_id reads (type, external_id); a code
   * alone first finds its achievements in the catalog (which names every achievement a certificate points at). With
   * `asOf`, the versions then; a certificate is found under its current achievement. Ordered by id.
   */
  listCertificatesMatching(
    tenantId: string,
    matchers: readonly AchievementMatcher[],
    opts?: AsOfReadOptions,
  ): Promise<Certificate[]>;
  /** These certificates of the tenant (any number of ids; unknown ids left out), without the payload, in no order. */
  listCertificatesByIds(tenantId: string, ids: readonly string[], opts?: ReadOptions): Promise<Certificate[]>;
  /**
   * Where every awarded, started certificate ending (valid_until) in the window sorts: (valid_until, id), soonest
   * first. One read of the table for a whole report (no index covers valid_until), where pages would read it per page.
   */
  listCertificateKeysEnding(tenantId: string, filter: EndingFilter): Promise<EndingCursor[]>;
  /** One page of awarded, started certificates ending (valid_until) in the window, soonest first, then by id. */
  listCertificatesEnding(
    tenantId: string,
    filter: EndingFilter,
    page: { limit: number; after?: EndingCursor | null },
    opts?: ReadOptions,
  ): Promise<Certificate[]>;
}

/** What a certificate view shows besides c.id and c.valid_until: no payload, no national id. */
const VIEW_COLUMNS = [
  'c.tenant_id',
  'c.source_id',
  'c.external_id',
  'c.person_id',
  'c.file_sha256',
  'c.first_seen_at',
  'c.updated_at',
  'c.last_seen_at',
  'c.status',
  'c.subject_json',
  'c.achievement_type',
  'c.achievement_external_id',
  'c.achievement_title',
  'c.achievement_code',
  'c.issued_at',
  'c.valid_from',
  'c.serial',
  'c.file_available',
  's.slug as source_slug',
  's.provider as provider',
] as const;

/**
 * A certificate as it was at an instant: the row's own columns for what never changes (ids, source, person), the
 * version's for every normalized field (its recorded_at stands in for updated_at). No payload, no national id.
 */
const AS_OF_VIEW_COLUMNS = [
  'c.id',
  'c.tenant_id',
  'c.source_id',
  'c.external_id',
  'c.person_id',
  'c.file_sha256',
  'c.first_seen_at',
  'v.recorded_at as updated_at',
  'c.last_seen_at',
  'v.status',
  'v.subject_json',
  'v.achievement_type',
  'v.achievement_external_id',
  'v.achievement_title',
  'v.achievement_code',
  'v.issued_at',
  'v.valid_from',
  'v.valid_until',
  'v.serial',
  'v.file_available',
  's.slug as source_slug',
  's.provider as provider',
] as const;

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export function createCertificateReader(ctx: StoreContext): CertificateReader {
  const { db } = ctx;

  const selectCertificates = () =>
    db
      .selectFrom('certificates as c')
      .innerJoin('sources as s', 's.id', 'c.source_id')
      .selectAll('c')
      .select(['s.slug as source_slug', 's.provider as provider']);

  const many = (rows: CertificateViewRow[], opts: ReadOptions | undefined) => rows.map((r) => toCertificate(r, opts));

  /** selectCertificates without the payload and the national id: for reads of many certificates that show neither. */
  const selectCertificateViews = () =>
    db
      .selectFrom('certificates as c')
      .innerJoin('sources as s', 's.id', 'c.source_id')
      .select(['c.id', 'c.valid_until', ...VIEW_COLUMNS]);

  /**
   * Certificates as they were at `asOf`: the certificate row for what does not change (ids, source, person), the
   * latest version recorded at or before `asOf` for every normalized field. Same columns as selectCertificates.
   */
  const fromCertificatesAsOf = (asOf: string) =>
    db
      .selectFrom('certificates as c')
      .innerJoin('sources as s', 's.id', 'c.source_id')
      .innerJoin('certificate_versions as v', 'v.certificate_id', 'c.id')
      .where('c.first_seen_at', '<=', asOf)
      .where('v.version', '=', (eb) =>
        eb
          .selectFrom('certificate_versions as v2')
          .select((eb2) => eb2.fn.max('v2.version').as('max_version'))
          .whereRef('v2.certificate_id', '=', 'c.id')
          .where('v2.recorded_at', '<=', asOf),
      );

  const selectCertificatesAsOf = (asOf: string) =>
    fromCertificatesAsOf(asOf).select([
      ...AS_OF_VIEW_COLUMNS,
      'v.subject_national_id_hmac',
      'v.subject_national_id_ciphertext',
      'v.raw_json',
      'v.payload_hash',
    ]);

  /** Awarded, started certificates ending in the window; selects (valid_until, id), callers add more. */
  const endingQuery = (tenantId: string, filter: EndingFilter) => {
    let q = db
      .selectFrom('certificates as c')
      .innerJoin('sources as s', 's.id', 'c.source_id')
      .select(['c.id', 'c.valid_until'])
      .where('c.tenant_id', '=', tenantId)
      .where('c.status', '=', 'awarded')
      .where('c.valid_until', '>=', filter.from)
      .where('c.valid_until', '<=', filter.to)
      .where((eb) => eb.or([eb('c.valid_from', 'is', null), eb('c.valid_from', '<=', filter.started_by)]));
    if (filter.source !== undefined) q = q.where('s.slug', '=', filter.source);
    if (filter.provider !== undefined) q = q.where('s.provider', '=', filter.provider);
    return q;
  };

  /** selectCertificateViews as of an instant (see selectCertificatesAsOf). */
  const selectCertificateViewsAsOf = (asOf: string) => fromCertificatesAsOf(asOf).select([...AS_OF_VIEW_COLUMNS]);

  /** Rows read as of an instant: last_seen_at cannot be later than that instant; validity is computed then. */
  const asOfRows = (rows: CertificateViewRow[], opts: AsOfReadOptions) => {
    const asOf = opts.asOf!;
    const readOpts: ReadOptions = { ...opts, now: opts.now ?? new Date(asOf) };
    return rows.map((r) => toCertificate({ ...r, last_seen_at: r.last_seen_at > asOf ? asOf : r.last_seen_at }, readOpts));
  };

  return {
    async getCertificate(tenantId, id, opts) {
      if (opts?.asOf !== undefined) {
        const rows = await selectCertificatesAsOf(opts.asOf).where('c.tenant_id', '=', tenantId).where('c.id', '=', id).execute();
        return asOfRows(rows, opts)[0] ?? null;
      }
      const row = await selectCertificates().where('c.tenant_id', '=', tenantId).where('c.id', '=', id).executeTakeFirst();
      return row === undefined ? null : toCertificate(row, opts);
    },

    async getCertificateByExternalId(tenantId, sourceId, externalId, opts) {
      const row = await selectCertificates()
        .where('c.tenant_id', '=', tenantId)
        .where('c.source_id', '=', sourceId)
        .where('c.external_id', '=', externalId)
        .executeTakeFirst();
      return row === undefined ? null : toCertificate(row, opts);
    },

    async listCertificatesByPerson(tenantId, personId, opts) {
      const rows = await selectCertificates()
        .where('c.tenant_id', '=', tenantId)
        .where('c.person_id', '=', personId)
        .orderBy('c.id')
        .execute();
      return many(rows, opts);
    },

    async listCertificatesByPeople(tenantId, personIds, opts) {
      const out: Certificate[] = [];
      for (const ids of chunk([...new Set(personIds)], VALUES_PER_LIST)) {
        if (opts?.asOf !== undefined) {
          const rows = await selectCertificatesAsOf(opts.asOf)
            .where('c.tenant_id', '=', tenantId)
            .where('c.person_id', 'in', ids)
            .orderBy('c.person_id')
            .orderBy('c.id')
            .execute();
          out.push(...asOfRows(rows, opts));
        } else {
          const rows = await selectCertificates()
            .where('c.tenant_id', '=', tenantId)
            .where('c.person_id', 'in', ids)
            .orderBy('c.person_id')
            .orderBy('c.id')
            .execute();
          out.push(...many(rows, opts));
        }
      }
      return out;
    },

    async listCertificates(tenantId, filter = {}, page = {}, opts) {
      const limit = Math.min(Math.max(Math.trunc(page.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);
      for (const list of [filter.source_ids, filter.providers, filter.statuses, filter.person_ids, filter.validities]) {
        // An empty "one of" list matches nothing (and `in ()` is not SQL).
        if (list !== undefined && list.length === 0) return { items: [], next_cursor: null };
      }
      const after = page.cursor ? decodeKeyCursor(CERTIFICATE_CURSOR, page.cursor) : null;
      const asOf = opts?.asOf;
      const today = calendarDate(opts?.now ?? (asOf === undefined ? new Date() : new Date(asOf)), opts?.timeZone ?? DEFAULT_TIME_ZONE);
      const conditions = filterConditions(filter, today, asOf === undefined ? 's.provider' : 'c.provider');
      if (after !== null) conditions.push(afterCursor(after));
      // As of an instant: the same filters over the rows as they were then (a derived table with the columns of a
      // certificate row), in the same (updated_at, id) order, updated_at being the recorded_at of the version shown.
      const rows =
        asOf === undefined
          ? await selectCertificates()
              .where('c.tenant_id', '=', tenantId)
              .where((eb) => eb.and(conditions))
              .orderBy('c.updated_at')
              .orderBy('c.id')
              .limit(limit + 1)
              .execute()
          : await db
              .selectFrom(selectCertificatesAsOf(asOf).where('c.tenant_id', '=', tenantId).as('c'))
              .selectAll('c')
              .where((eb) => eb.and(conditions))
              .orderBy('c.updated_at')
              .orderBy('c.id')
              .limit(limit + 1)
              .execute();
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      const next_cursor =
        rows.length > limit && last !== undefined ? encodeKeyCursor(CERTIFICATE_CURSOR, { key: last.updated_at, id: last.id }) : null;
      return { items: asOf === undefined ? many(items, opts) : asOfRows(items, { ...opts, asOf }), next_cursor };
    },

    async getCertificateRaw(tenantId, id) {
      const row = await db
        .selectFrom('certificates')
        .select('raw_json')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? null : { raw: JSON.parse(row.raw_json) as unknown };
    },

    async listCertificateVersions(tenantId, certificateId) {
      const rows = await db
        .selectFrom('certificate_versions as v')
        .selectAll('v')
        .where('v.certificate_id', '=', certificateId)
        .where((eb) =>
          eb.exists(eb.selectFrom('certificates as c').select('c.id').whereRef('c.id', '=', 'v.certificate_id').where('c.tenant_id', '=', tenantId)),
        )
        .orderBy('v.version')
        .execute();
      return rows.map(toCertificateVersion);
    },

    async listCertificatesMatching(tenantId, matchers, opts) {
      // The (tenant_id, achievement_type, achievement_external_id) index answers each lookup; a matcher without a
      // type asks for every type so that the index is still used from its first column on.
      const wanted = new Map<string, Set<string>>();
      const want = (type: string, externalId: string) => {
        let ids = wanted.get(type);
        if (ids === undefined) wanted.set(type, (ids = new Set()));
        ids.add(externalId);
      };
      for (const m of matchers) {
        if (m.external_id === undefined) continue;
        for (const type of m.type === undefined ? ACHIEVEMENT_TYPES : [m.type]) want(type, m.external_id);
      }
      const codes = [
        ...new Set(matchers.flatMap((m) => (m.external_id === undefined && m.code !== undefined ? [m.code.toLowerCase()] : []))),
      ];
      for (const list of chunk(codes, VALUES_PER_LIST)) {
        const found = await db
          .selectFrom('achievements as a')
          .innerJoin('sources as s', 's.id', 'a.source_id')
          .select(['a.type', 'a.external_id'])
          .where('s.tenant_id', '=', tenantId)
          .where((eb) => eb(eb.fn('lower', ['a.code']), 'in', list))
          .execute();
        for (const a of found) want(a.type, a.external_id);
      }

      const out: Certificate[] = [];
      for (const [type, ids] of wanted) {
        for (const list of chunk([...ids], VALUES_PER_LIST)) {
          const certs =
            opts?.asOf === undefined
              ? many(
                  await selectCertificateViews()
                    .where('c.tenant_id', '=', tenantId)
                    .where('c.achievement_type', '=', type)
                    .where('c.achievement_external_id', 'in', list)
                    .execute(),
                  opts,
                )
              : asOfRows(
                  await selectCertificateViewsAsOf(opts.asOf)
                    .where('c.tenant_id', '=', tenantId)
                    .where('c.achievement_type', '=', type)
                    .where('c.achievement_external_id', 'in', list)
                    .execute(),
                  opts,
                );
          for (const cert of certs) if (matchers.some((m) => matches(cert, m))) out.push(cert);
        }
      }
      return out.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    },

    async listCertificatesByIds(tenantId, ids, opts) {
      const out: Certificate[] = [];
      for (const list of chunk([...new Set(ids)], VALUES_PER_LIST)) {
        // The tenant is checked on the rows read: `c.tenant_id = ?` in SQL lures SQLite (without statistics) into
        // reading the tenant's whole index instead of looking the ids up.
        const rows = await selectCertificateViews().where('c.id', 'in', list).execute();
        out.push(...many(rows.filter((r) => r.tenant_id === tenantId), opts));
      }
      return out;
    },

    async listCertificateKeysEnding(tenantId, filter) {
      const rows = await endingQuery(tenantId, filter).orderBy('c.valid_until').orderBy('c.id').execute();
      return rows.map((r) => ({ valid_until: r.valid_until!, id: r.id }));
    },

    async listCertificatesEnding(tenantId, filter, page, opts) {
      // endingQuery selects c.id and c.valid_until already.
      let q = endingQuery(tenantId, filter).select([...VIEW_COLUMNS]);
      const after = page.after;
      if (after) {
        q = q.where((eb) =>
          eb.or([
            eb('c.valid_until', '>', after.valid_until),
            eb.and([eb('c.valid_until', '=', after.valid_until), eb('c.id', '>', after.id)]),
          ]),
        );
      }
      const rows = await q.orderBy('c.valid_until').orderBy('c.id').limit(page.limit).execute();
      return many(rows, opts);
    },
  };
}

/** `column in (...)` over a non-empty list. */
function oneOf(column: string, values: readonly string[]): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} in (${sql.join(values.map((v) => sql.val(v)))})`;
}

function compare(column: string, op: '=' | '<' | '<=' | '>' | '>=', value: string): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} ${sql.raw(op)} ${value}`;
}

/**
 * domain/validity.ts in SQL, for the calendar day `today` (YYYY-MM-DD; dates compare correctly as text): the status
 * decides first, then the inclusive valid_from .. valid_until range, not_yet_valid before expired.
 */
function validityCondition(v: Validity, today: string): Expression<SqlBool> {
  const awarded = compare('c.status', '=', 'awarded');
  const started = sql<SqlBool>`(c.valid_from is null or ${compare('c.valid_from', '<=', today)})`;
  switch (v) {
    case 'valid':
      return sql<SqlBool>`(${awarded} and ${started} and (c.valid_until is null or ${compare('c.valid_until', '>=', today)}))`;
    case 'expired':
      return sql<SqlBool>`(${awarded} and ${started} and ${compare('c.valid_until', '<', today)})`;
    case 'not_yet_valid':
      return sql<SqlBool>`(${awarded} and ${compare('c.valid_from', '>', today)})`;
    case 'revoked':
    case 'pending':
    case 'deleted':
      return compare('c.status', '=', v);
  }
}

/** The filter as conditions on a certificate row `c` (the provider column named apart: it is the source's). */
function filterConditions(filter: CertificateFilter, today: string, providerColumn: string): Expression<SqlBool>[] {
  const out: Expression<SqlBool>[] = [];
  if (filter.source_ids) out.push(oneOf('c.source_id', filter.source_ids));
  if (filter.providers) out.push(oneOf(providerColumn, filter.providers));
  if (filter.person_id !== undefined) out.push(compare('c.person_id', '=', filter.person_id));
  if (filter.person_ids) out.push(oneOf('c.person_id', filter.person_ids));
  if (filter.statuses) out.push(oneOf('c.status', filter.statuses));
  if (filter.validities) {
    const any = [...new Set(filter.validities)].map((v) => validityCondition(v, today));
    out.push(sql<SqlBool>`(${sql.join(any, sql` or `)})`);
  }
  if (filter.achievement_type !== undefined) out.push(compare('c.achievement_type', '=', filter.achievement_type));
  if (filter.achievement_external_id !== undefined) out.push(compare('c.achievement_external_id', '=', filter.achievement_external_id));
  if (filter.achievement_code !== undefined) out.push(compare('c.achievement_code', '=', filter.achievement_code));
  if (filter.updated_since !== undefined) out.push(compare('c.updated_at', '>=', filter.updated_since));
  if (filter.issued_from !== undefined) out.push(compare('c.issued_at', '>=', filter.issued_from));
  if (filter.issued_before !== undefined) out.push(compare('c.issued_at', '<', filter.issued_before));
  if (filter.valid_until_from !== undefined) out.push(compare('c.valid_until', '>=', filter.valid_until_from));
  if (filter.valid_until_before !== undefined) out.push(compare('c.valid_until', '<', filter.valid_until_before));
  return out;
}

/** Rows after the cursor in the (updated_at, id) order. */
function afterCursor(after: KeyPosition): Expression<SqlBool> {
  return sql<SqlBool>`(${compare('c.updated_at', '>', after.key)} or (${compare('c.updated_at', '=', after.key)} and ${compare('c.id', '>', after.id)}))`;
}
