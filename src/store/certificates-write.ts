import { sql, type Transaction } from 'kysely';
import type { AchievementType, NormalizedCertificate, ProviderId } from '../domain/certificate.ts';
import { AppError } from '../errors.ts';
import type { IdentityPort } from '../identity/port.ts';
import { pickCertificateFields, toCertificateFields } from './certificate-row.ts';
import { canonicalJson, chunk, isoNow, ROWS_PER_STATEMENT, VALUES_PER_LIST, type StoreContext } from './context.ts';
import { createIdentityPort } from './identity-port.ts';
import { normalizeNationalId } from './national-id.ts';
import type { AchievementsTable, CertificateFields, CertificatesTable, CertificateVersionsTable, Database } from './schema.ts';
import { assertLockHeld, type LockFence } from './locks.ts';
import { writeCheckpoint } from './sync.ts';
import type { Source } from './sources.ts';
import { certificateEvent, recordEvents } from './events.ts';
import type { NewEvent } from '../outbound/catalog.ts';
import { notePushedCopies, planPushes, pushedCopies, type PushCandidate, type PushedCopy } from './pushes.ts';

export interface SavePageReport {
  created: number;
  updated: number;
  unchanged: number;
}

/** A certificate of the page as a person resolver sees it, inside the page's transaction. */
export interface PageSubject {
  external_id: string;
  certificate: NormalizedCertificate;
  outcome: 'created' | 'updated' | 'unchanged';
  /** The person it is linked to now: null for a new or still unlinked certificate. */
  person_id: string | null;
  /** The subject's national id as the store keeps it (HMAC as person identities use it, and ciphertext); null without. */
  national_id_hmac: string | null;
  national_id_ciphertext: string | null;
}

export interface PersonResolverInput {
  tenantId: string;
  sourceId: string;
  provider: ProviderId;
  /** ISO instant of the page's writes. */
  now: string;
  certificates: readonly PageSubject[];
}

/**
 * Runs inside the page's transaction, before the certificates are written, reading and writing people through the
 * identity port on that transaction; returns the person each certificate is to be linked to (external_id -> person
 * id). Certificates it leaves out keep their link. Since it shares the transaction, a crash can never leave a saved
 * certificate without the link it was given.
 */
export type PersonResolver = (identities: IdentityPort, page: PersonResolverInput) => Promise<ReadonlyMap<string, string>>;

/** A catalog entry a provider listed with the page (titles, codes, extra attributes). */
export interface CatalogEntry {
  type: AchievementType;
  external_id: string;
  title: string | null;
  code: string | null;
  extra?: Record<string, unknown> | null;
}

export interface SavePageOptions {
  now?: Date;
  resolvePeople?: PersonResolver;
  /** Stored in the same transaction; a known entry keeps the title/code/extra a later entry leaves out. */
  catalog?: readonly CatalogEntry[];
  /** The sync lock the page is saved under: checked inside the transaction, AppError('conflict') when it was taken over. */
  fence?: LockFence;
  /**
   * Whether a certificate of this page is the copy certhub pushed to this source whose create is in doubt (matched
   * by what was sent: the provider's push.recognizes). Copies whose id certhub knows are recognised without it.
   * A recognised copy is not stored: it is the original's pushed copy, not a second certificate of the person.
   */
  recognizePushed?: (cert: NormalizedCertificate, copy: PushedCopy) => boolean;
}

export interface CertificateWriter {
  /**
   * Stores one page and its checkpoint in ONE transaction: all of it or none of it. New -> insert + version 1;
   * changed payload -> update + next version; unchanged -> only last_seen_at moves. A repeated external_id within
   * the page counts once, the last occurrence wins. `checkpoint` null leaves the stored checkpoint as it is.
   * `opts.resolvePeople` links certificates to people and `opts.catalog` stores catalog entries, both in the transaction.
   */
  savePage(
    /** The source's id, or the source itself when the caller holds it (the engine): then it is not read again. */
    source: string | Pick<Source, 'id' | 'tenant_id' | 'provider'>,
    certificates: readonly NormalizedCertificate[],
    checkpoint: unknown,
    opts?: SavePageOptions,
  ): Promise<SavePageReport>;
  /**
   * After a complete full scan: every certificate of the source not seen since `seenSince` (ISO instant) becomes
   * `deleted`, with a version row. A later page that returns it again restores it as a normal change.
   */
  markMissingDeleted(sourceId: string, seenSince: string, opts?: { now?: Date; fence?: LockFence }): Promise<{ deleted: number }>;
  /** The external ids markMissingDeleted would mark now (oldest seen first, at most `limit`): what a scan has not returned yet. */
  listUnseen(sourceId: string, seenSince: string, limit: number): Promise<string[]>;
}

type Trx = Transaction<Database>;

async function nextVersions(trx: Trx, certificateIds: readonly string[]): Promise<Map<string, number>> {
  const next = new Map<string, number>();
  for (const ids of chunk(certificateIds, VALUES_PER_LIST)) {
    const rows = await trx
      .selectFrom('certificate_versions')
      .select(['certificate_id', (eb) => eb.fn.max('version').as('version')])
      .where('certificate_id', 'in', ids)
      .groupBy('certificate_id')
      .execute();
    for (const r of rows) next.set(r.certificate_id, Number(r.version) + 1);
  }
  return next;
}

async function insertVersions(trx: Trx, rows: readonly CertificateVersionsTable[]): Promise<void> {
  for (const part of chunk(rows, ROWS_PER_STATEMENT)) await trx.insertInto('certificate_versions').values(part).execute();
}

export function createCertificateWriter(ctx: StoreContext): CertificateWriter {
  const { db, box } = ctx;

  const version = (certificateId: string, n: number, fields: CertificateFields, now: string): CertificateVersionsTable => ({
    id: ctx.newId(),
    certificate_id: certificateId,
    version: n,
    ...pickCertificateFields(fields),
    recorded_at: now,
  });

  async function upsertCatalog(trx: Trx, sourceId: string, entries: readonly CatalogEntry[], now: string) {
    const byKey = new Map<string, AchievementsTable>();
    for (const a of entries) {
      byKey.set(`${a.type}\u0000${a.external_id}`, {
        id: ctx.newId(),
        source_id: sourceId,
        type: a.type,
        external_id: a.external_id,
        title: a.title,
        code: a.code,
        extra_json: a.extra === undefined || a.extra === null ? null : canonicalJson(a.extra),
        created_at: now,
        updated_at: now,
      });
    }
    for (const part of chunk([...byKey.values()], ROWS_PER_STATEMENT)) {
      await trx
        .insertInto('achievements')
        .values(part)
        .onConflict((oc) =>
          oc.columns(['source_id', 'type', 'external_id']).doUpdateSet((eb) => ({
            title: eb.fn.coalesce(eb.ref('excluded.title'), eb.ref('achievements.title')),
            code: eb.fn.coalesce(eb.ref('excluded.code'), eb.ref('achievements.code')),
            extra_json: eb.fn.coalesce(eb.ref('excluded.extra_json'), eb.ref('achievements.extra_json')),
            updated_at: now,
          })),
        )
        .execute();
    }
  }

  return {
    async savePage(given, certificates, checkpoint, opts) {
      const now = isoNow(opts?.now);
      const sourceId = typeof given === 'string' ? given : given.id;
      const source =
        typeof given === 'string'
          ? await db.selectFrom('sources').select(['tenant_id', 'provider']).where('id', '=', sourceId).executeTakeFirst()
          : given;
      if (source === undefined) throw new AppError('not_found', `source ${sourceId} not found`);

      // Last occurrence wins; encryption and hashing happen before the transaction opens.
      const latest = new Map<string, NormalizedCertificate>();
      for (const cert of certificates) latest.set(cert.external_id, cert);
      const allOfPage = [...latest.values()].map((cert) => ({
        cert,
        fields: toCertificateFields(box, cert, { tenant_id: source.tenant_id, source_id: sourceId }),
      }));
      // A person gets the national id encrypted for the person (secret-places.ts), not the certificate's ciphertext.
      const nationalIds = new Map<string, string>();
      for (const { cert, fields } of allOfPage) {
        const nationalId = cert.subject.national_id;
        if (fields.subject_national_id_hmac !== null && nationalId) {
          nationalIds.set(fields.subject_national_id_hmac, normalizeNationalId(nationalId));
        }
      }

      return db.transaction().execute(async (trx) => {
        if (opts?.fence !== undefined) await assertLockHeld(trx, ctx.dialect, opts.fence);
        const existing = new Map<string, { id: string; payload_hash: string; person_id: string | null; status: string }>();
        for (const ids of chunk([...latest.keys()], VALUES_PER_LIST)) {
          const rows = await trx
            .selectFrom('certificates')
            .select(['id', 'external_id', 'payload_hash', 'person_id', 'status'])
            .where('source_id', '=', sourceId)
            .where('external_id', 'in', ids)
            .execute();
          for (const r of rows) existing.set(r.external_id, r);
        }
        // Copies certhub pushed to this source are linked to their push, never stored as certificates of their own.
        // One already stored is the platform's own (it was there before the push) and stays a certificate.
        const copies = await pushedCopies(trx, sourceId, [...latest.keys()]);
        const seenCopies: { push_id: string; remote_id: string }[] = [];
        const page = allOfPage.filter(({ cert }) => {
          if (existing.has(cert.external_id)) return true;
          const copy =
            copies.byRemoteId.get(cert.external_id) ??
            (opts?.recognizePushed === undefined ? undefined : copies.inDoubt.find((c) => opts.recognizePushed!(cert, c)));
          if (copy === undefined) return true;
          seenCopies.push({ push_id: copy.push_id, remote_id: cert.external_id });
          return false;
        });
        if (seenCopies.length > 0) await notePushedCopies(trx, seenCopies, now);

        const links =
          opts?.resolvePeople === undefined
            ? new Map<string, string>()
            : await opts.resolvePeople(createIdentityPort(ctx, trx, nationalIds), {
                tenantId: source.tenant_id,
                sourceId,
                provider: source.provider,
                now,
                certificates: page.map(({ cert, fields }) => {
                  const found = existing.get(cert.external_id);
                  return {
                    external_id: cert.external_id,
                    certificate: cert,
                    outcome:
                      found === undefined ? 'created' : found.payload_hash === fields.payload_hash ? 'unchanged' : 'updated',
                    person_id: found?.person_id ?? null,
                    national_id_hmac: fields.subject_national_id_hmac,
                    national_id_ciphertext: fields.subject_national_id_ciphertext,
                  };
                }),
              });

        const inserts: CertificatesTable[] = [];
        const changes: { id: string; fields: CertificateFields; person_id: string | null }[] = [];
        const events: NewEvent[] = [];
        const eventOf = (type: NewEvent['type'], row: Parameters<typeof certificateEvent>[1], cert: NormalizedCertificate) =>
          events.push(
            certificateEvent(type, row, { type: cert.achievement.type, external_id: cert.achievement.external_id, code: cert.achievement.code }, source.provider, now),
          );
        const unchangedIds: string[] = [];
        const relinks = new Map<string, string[]>();
        for (const { cert, fields } of page) {
          const found = existing.get(cert.external_id);
          const personId = links.get(cert.external_id);
          if (found === undefined) {
            inserts.push({
              id: ctx.newId(),
              tenant_id: source.tenant_id,
              source_id: sourceId,
              external_id: cert.external_id,
              person_id: personId ?? null,
              ...fields,
              file_sha256: null,
              first_seen_at: now,
              updated_at: now,
              last_seen_at: now,
            });
            eventOf('certificate.created', inserts[inserts.length - 1]!, cert);
          } else if (found.payload_hash === fields.payload_hash) {
            if (personId !== undefined && personId !== found.person_id) {
              relinks.set(personId, [...(relinks.get(personId) ?? []), found.id]);
              eventOf('certificate.updated', { ...fields, id: found.id, source_id: sourceId, external_id: cert.external_id, person_id: personId }, cert);
            } else {
              unchangedIds.push(found.id);
            }
          } else {
            const row = { id: found.id, fields, person_id: personId ?? found.person_id };
            changes.push(row);
            const revoked = fields.status === 'revoked' && found.status !== 'revoked';
            eventOf(
              revoked ? 'certificate.revoked' : 'certificate.updated',
              { ...fields, id: found.id, source_id: sourceId, external_id: cert.external_id, person_id: row.person_id },
              cert,
            );
          }
        }

        for (const part of chunk(inserts, ROWS_PER_STATEMENT)) await trx.insertInto('certificates').values(part).execute();
        const versions = inserts.map((row) => version(row.id, 1, row, now));

        const next = await nextVersions(
          trx,
          changes.map((c) => c.id),
        );
        for (const { id, fields, person_id } of changes) {
          await trx
            .updateTable('certificates')
            .set({ ...fields, person_id, updated_at: now, last_seen_at: now })
            .where('id', '=', id)
            .execute();
          versions.push(version(id, next.get(id) ?? 1, fields, now));
        }
        await insertVersions(trx, versions);

        for (const ids of chunk(unchangedIds, VALUES_PER_LIST)) {
          await trx.updateTable('certificates').set({ last_seen_at: now }).where('id', 'in', ids).execute();
        }
        // person_id is part of what readers see, so a (re)link moves updated_at (as linkCertificateToPerson does).
        for (const [personId, ids] of relinks) {
          for (const part of chunk(ids, VALUES_PER_LIST)) {
            await trx
              .updateTable('certificates')
              .set({ person_id: personId, updated_at: now, last_seen_at: now })
              .where('id', 'in', part)
              .execute();
          }
        }

        // Every achievement a certificate points at is in the catalog; a certificate without a title never erases
        // the title the catalog already knows (coalesce in upsertCatalog).
        const named: CatalogEntry[] = [...latest.values()].map(({ achievement: a }) => ({ type: a.type, external_id: a.external_id, title: a.title, code: a.code }));
        await upsertCatalog(trx, sourceId, [...named, ...(opts?.catalog ?? [])], now);
        if (checkpoint !== null && checkpoint !== undefined) await writeCheckpoint(trx, sourceId, checkpoint, now);
        await recordEvents(ctx, trx, source.tenant_id, events, now);
        const candidate = (id: string, f: CertificateFields, personId: string | null): PushCandidate => ({
          id,
          source_id: sourceId,
          person_id: personId,
          status: f.status,
          valid_until: f.valid_until,
          achievement: { type: f.achievement_type, external_id: f.achievement_external_id, code: f.achievement_code },
        });
        await planPushes(
          ctx,
          trx,
          source.tenant_id,
          [...inserts.map((r) => candidate(r.id, r, r.person_id)), ...changes.map((c) => candidate(c.id, c.fields, c.person_id))],
          now,
        );
        // A relinked certificate's payload did not change: it still counts as unchanged.
        const relinked = [...relinks.values()].reduce((n, ids) => n + ids.length, 0);
        return { created: inserts.length, updated: changes.length, unchanged: unchangedIds.length + relinked };
      });
    },

    async listUnseen(sourceId, seenSince, limit) {
      const rows = await db
        .selectFrom('certificates')
        .select(['external_id'])
        .where('source_id', '=', sourceId)
        .where('last_seen_at', '<', seenSince)
        .where('status', '<>', 'deleted')
        .orderBy('last_seen_at')
        .orderBy('external_id')
        .limit(Math.max(0, Math.floor(limit)))
        .execute();
      return rows.map((r) => r.external_id);
    },

    async markMissingDeleted(sourceId, seenSince, opts) {
      const now = isoNow(opts?.now);
      return db.transaction().execute(async (trx) => {
        if (opts?.fence !== undefined) await assertLockHeld(trx, ctx.dialect, opts.fence);
        const missing = await trx
          .selectFrom('certificates')
          .selectAll()
          .where('source_id', '=', sourceId)
          .where('last_seen_at', '<', seenSince)
          .where('status', '<>', 'deleted')
          .execute();
        if (missing.length === 0) return { deleted: 0 };
        const ids = missing.map((row) => row.id);
        for (const part of chunk(ids, VALUES_PER_LIST)) {
          await trx
            .updateTable('certificates')
            // A hash no provider page can produce: if the record comes back, savePage sees a change and restores it.
            .set({ status: 'deleted', updated_at: now, payload_hash: sql<string>`${'deleted:'} || payload_hash` })
            .where('id', 'in', part)
            .execute();
        }
        const next = await nextVersions(trx, ids);
        await insertVersions(
          trx,
          missing.map((row) =>
            version(row.id, next.get(row.id) ?? 1, { ...row, status: 'deleted', payload_hash: `deleted:${row.payload_hash}` }, now),
          ),
        );
        const source = await trx.selectFrom('sources').select(['tenant_id', 'provider']).where('id', '=', sourceId).executeTakeFirstOrThrow();
        await recordEvents(
          ctx,
          trx,
          source.tenant_id,
          missing.map((row) =>
            certificateEvent(
              'certificate.deleted',
              { ...row, status: 'deleted' },
              { type: row.achievement_type, external_id: row.achievement_external_id, code: row.achievement_code },
              source.provider,
              now,
            ),
          ),
          now,
        );
        await planPushes(
          ctx,
          trx,
          source.tenant_id,
          missing.map((row) => ({
            id: row.id,
            source_id: sourceId,
            person_id: row.person_id,
            status: 'deleted',
            valid_until: row.valid_until,
            achievement: { type: row.achievement_type, external_id: row.achievement_external_id, code: row.achievement_code },
          })),
          now,
        );
        return { deleted: missing.length };
      });
    },
  };
}
