/**
 * Rotating the secret key: every ciphertext re-encrypted under the new key (bound to the same row) and every
 * national-id HMAC recomputed with the new key's HMAC subkey, in ONE transaction. Interrupted or failing, it changes
 * nothing: the database stays wholly under the old key.
 *
 * Where the key is used (keep this list whole when a new encrypted column or HMAC appears):
 * - sources.credentials_ciphertext
 * - people.national_id_ciphertext + people.national_id_hmac
 * - certificates / certificate_versions .subject_national_id_ciphertext + .subject_national_id_hmac
 * - person_identities.value_hmac (kind national_id: only the HMAC is kept, so it is mapped old -> new through the
 *   national ids decrypted above)
 * - person_merges.moved_json (dropped identities, kept for an unmerge, carry value_hmac too)
 * - webhook_endpoints.secrets_ciphertext
 * - meta.secret_key_check
 */
import type { Transaction } from 'kysely';
import { AppError } from '../errors.ts';
import { createSecretBox, type SecretBox } from '../secrets.ts';
import type { StoreContext } from './context.ts';
import { databaseNowIso } from './locks.ts';
import type { MergeMoved } from './merges.ts';
import { KEY_CHECK, KEY_CHECK_PLAIN, verifySecretKey } from './migrate.ts';
import { nationalIdHmac } from './national-id.ts';
import type { Database } from './schema.ts';
import {
  certificateNationalIdPlace,
  KEY_CHECK_PLACE,
  personNationalIdPlace,
  sourceCredentialsPlace,
  webhookSecretsPlace,
} from './secret-places.ts';

/** Rows read at a time (keyset by id); the writes all stay in the one transaction. */
const BATCH = 500;

/** How many rows of each kind were rewritten. */
export interface KeyRotationReport {
  sources: number;
  people: number;
  certificates: number;
  certificate_versions: number;
  identities: number;
  merges: number;
  webhook_endpoints: number;
}

type Trx = Transaction<Database>;

/** Calls `each` for every row `read` gives, BATCH rows at a time, ordered by id; returns how many. */
async function forEachRow<R extends { id: string }>(read: (after: string) => Promise<R[]>, each: (row: R) => Promise<void>): Promise<number> {
  let after = '';
  let count = 0;
  for (;;) {
    const rows = await read(after);
    for (const row of rows) await each(row);
    count += rows.length;
    if (rows.length < BATCH) return count;
    after = rows[rows.length - 1]!.id;
  }
}

/** Old national-id HMAC -> new one, learnt from every national id the store can decrypt. */
class HmacMap {
  private readonly map = new Map<string, string>();
  constructor(private readonly next: SecretBox) {}

  /** The new HMAC of `plain`, remembering what the row's old one becomes. */
  learn(oldHmac: string | null, plain: string): string {
    const fresh = nationalIdHmac(this.next, plain);
    if (oldHmac !== null) this.map.set(oldHmac, fresh);
    return fresh;
  }

  /** The new HMAC for an old one no ciphertext sits beside; `unknown` counts those nothing maps. */
  translate(oldHmac: string, unknown: { count: number }): string {
    const fresh = this.map.get(oldHmac);
    if (fresh === undefined) {
      unknown.count += 1;
      return oldHmac;
    }
    return fresh;
  }
}

async function refuseWhileSyncing(ctx: StoreContext, trx: Trx): Promise<void> {
  const held = await trx
    .selectFrom('sync_locks')
    .innerJoin('sources', 'sources.id', 'sync_locks.source_id')
    .select(['sources.slug'])
    .where('sync_locks.expires_at', '>', databaseNowIso(ctx.dialect))
    .execute();
  if (held.length > 0) {
    throw new AppError(
      'conflict',
      `cannot rotate the secret key while a sync is running (${held.map((h) => h.slug).join(', ')}): stop every certhub process first`,
    );
  }
}

async function rotateSources(ctx: StoreContext, trx: Trx, next: SecretBox): Promise<number> {
  return forEachRow(
    (after) =>
      trx
        .selectFrom('sources')
        .select(['id', 'tenant_id', 'credentials_ciphertext'])
        .where('credentials_ciphertext', 'is not', null)
        .where('id', '>', after)
        .orderBy('id')
        .limit(BATCH)
        .execute(),
    async (r) => {
      const place = sourceCredentialsPlace(r.tenant_id, r.id);
      const token = next.encrypt(ctx.box.decrypt(r.credentials_ciphertext!, place), place);
      await trx.updateTable('sources').set({ credentials_ciphertext: token }).where('id', '=', r.id).execute();
    },
  );
}

async function rotateWebhookSecrets(ctx: StoreContext, trx: Trx, next: SecretBox): Promise<number> {
  return forEachRow(
    (after) =>
      trx.selectFrom('webhook_endpoints').select(['id', 'tenant_id', 'secrets_ciphertext']).where('id', '>', after).orderBy('id').limit(BATCH).execute(),
    async (r) => {
      const place = webhookSecretsPlace(r.tenant_id, r.id);
      const token = next.encrypt(ctx.box.decrypt(r.secrets_ciphertext, place), place);
      await trx.updateTable('webhook_endpoints').set({ secrets_ciphertext: token }).where('id', '=', r.id).execute();
    },
  );
}

async function rotatePeople(ctx: StoreContext, trx: Trx, next: SecretBox, hmacs: HmacMap): Promise<number> {
  return forEachRow(
    (after) =>
      trx
        .selectFrom('people')
        .select(['id', 'tenant_id', 'national_id_ciphertext', 'national_id_hmac'])
        .where('national_id_ciphertext', 'is not', null)
        .where('id', '>', after)
        .orderBy('id')
        .limit(BATCH)
        .execute(),
    async (r) => {
      const place = personNationalIdPlace(r.tenant_id, r.id);
      const plain = ctx.box.decrypt(r.national_id_ciphertext!, place);
      await trx
        .updateTable('people')
        .set({ national_id_ciphertext: next.encrypt(plain, place), national_id_hmac: hmacs.learn(r.national_id_hmac, plain) })
        .where('id', '=', r.id)
        .execute();
    },
  );
}

/** A certificate's (or version's) national id under the new key, its HMAC recomputed, in place. */
async function resealCertificateNationalId(
  ctx: StoreContext,
  trx: Trx,
  next: SecretBox,
  hmacs: HmacMap,
  table: 'certificates' | 'certificate_versions',
  r: { id: string; tenant_id: string; source_id: string; external_id: string; subject_national_id_ciphertext: string | null; subject_national_id_hmac: string | null },
): Promise<void> {
  const place = certificateNationalIdPlace(r.tenant_id, r.source_id, r.external_id);
  const plain = ctx.box.decrypt(r.subject_national_id_ciphertext!, place);
  await trx
    .updateTable(table)
    .set({ subject_national_id_ciphertext: next.encrypt(plain, place), subject_national_id_hmac: hmacs.learn(r.subject_national_id_hmac, plain) })
    .where('id', '=', r.id)
    .execute();
}

async function rotateCertificates(ctx: StoreContext, trx: Trx, next: SecretBox, hmacs: HmacMap): Promise<number> {
  return forEachRow(
    (after) =>
      trx
        .selectFrom('certificates')
        .select(['id', 'tenant_id', 'source_id', 'external_id', 'subject_national_id_ciphertext', 'subject_national_id_hmac'])
        .where('subject_national_id_ciphertext', 'is not', null)
        .where('id', '>', after)
        .orderBy('id')
        .limit(BATCH)
        .execute(),
    (r) => resealCertificateNationalId(ctx, trx, next, hmacs, 'certificates', r),
  );
}

async function rotateVersions(ctx: StoreContext, trx: Trx, next: SecretBox, hmacs: HmacMap): Promise<number> {
  return forEachRow(
    (after) =>
      trx
        .selectFrom('certificate_versions as v')
        .innerJoin('certificates as c', 'c.id', 'v.certificate_id')
        .select(['v.id', 'c.tenant_id', 'c.source_id', 'c.external_id', 'v.subject_national_id_ciphertext', 'v.subject_national_id_hmac'])
        .where('v.subject_national_id_ciphertext', 'is not', null)
        .where('v.id', '>', after)
        .orderBy('v.id')
        .limit(BATCH)
        .execute(),
    (r) => resealCertificateNationalId(ctx, trx, next, hmacs, 'certificate_versions', r),
  );
}

/** HMACs kept without a ciphertext beside them: identities, merge records, and any row whose ciphertext was cleared. */
async function translateLoneHmacs(trx: Trx, hmacs: HmacMap, unknown: { count: number }): Promise<{ identities: number; merges: number }> {
  const identities = await forEachRow(
    (after) =>
      trx
        .selectFrom('person_identities')
        .select(['id', 'value_hmac'])
        .where('value_hmac', 'is not', null)
        .where('id', '>', after)
        .orderBy('id')
        .limit(BATCH)
        .execute(),
    async (r) => {
      await trx.updateTable('person_identities').set({ value_hmac: hmacs.translate(r.value_hmac!, unknown) }).where('id', '=', r.id).execute();
    },
  );
  const merges = await forEachRow(
    (after) => trx.selectFrom('person_merges').select(['id', 'moved_json']).where('id', '>', after).orderBy('id').limit(BATCH).execute(),
    async (r) => {
      const moved = JSON.parse(r.moved_json) as MergeMoved;
      if (!moved.dropped_identities.some((i) => i.value_hmac !== null)) return;
      const dropped = moved.dropped_identities.map((i) => (i.value_hmac === null ? i : { ...i, value_hmac: hmacs.translate(i.value_hmac, unknown) }));
      await trx
        .updateTable('person_merges')
        .set({ moved_json: JSON.stringify({ ...moved, dropped_identities: dropped }) })
        .where('id', '=', r.id)
        .execute();
    },
  );
  for (const table of ['people', 'certificates', 'certificate_versions'] as const) {
    const hmacColumn = table === 'people' ? 'national_id_hmac' : 'subject_national_id_hmac';
    const cipherColumn = table === 'people' ? 'national_id_ciphertext' : 'subject_national_id_ciphertext';
    const rows = (await trx
      .selectFrom(table)
      .select(['id', `${hmacColumn} as hmac`])
      .where(hmacColumn, 'is not', null)
      .where(cipherColumn, 'is', null)
      .execute()) as { id: string; hmac: string }[];
    for (const r of rows) {
      await trx.updateTable(table).set({ [hmacColumn]: hmacs.translate(r.hmac, unknown) }).where('id', '=', r.id).execute();
    }
  }
  return { identities, merges };
}

/**
 * Re-encrypts everything under `newKey` in one transaction (see the list above). Refuses (AppError('conflict')) while
 * any sync holds its lock, and fails whole (nothing changed) when a stored ciphertext does not decrypt or a national-id
 * HMAC matches no stored national id. The caller must then stop using this store's key: open the store again with
 * `newKey`.
 */
export async function rotateSecretKey(ctx: StoreContext, newKey: Buffer): Promise<KeyRotationReport> {
  await verifySecretKey(ctx);
  const next = createSecretBox(newKey);
  return ctx.db.transaction().execute(async (trx) => {
    await refuseWhileSyncing(ctx, trx);
    const hmacs = new HmacMap(next);
    const people = await rotatePeople(ctx, trx, next, hmacs);
    const certificates = await rotateCertificates(ctx, trx, next, hmacs);
    const certificateVersions = await rotateVersions(ctx, trx, next, hmacs);
    const unknown = { count: 0 };
    const { identities, merges } = await translateLoneHmacs(trx, hmacs, unknown);
    if (unknown.count > 0) {
      throw new AppError(
        'internal',
        `cannot rotate the secret key: ${unknown.count} national-id HMAC(s) match no stored national id, so they cannot be recomputed; nothing was changed`,
      );
    }
    const sources = await rotateSources(ctx, trx, next);
    const webhookEndpoints = await rotateWebhookSecrets(ctx, trx, next);
    const updated = await trx
      .updateTable('meta')
      .set({ value: next.encrypt(KEY_CHECK_PLAIN, KEY_CHECK_PLACE) })
      .where('key', '=', KEY_CHECK)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) {
      await trx.insertInto('meta').values({ key: KEY_CHECK, value: next.encrypt(KEY_CHECK_PLAIN, KEY_CHECK_PLACE) }).execute();
    }
    return { sources, people, certificates, certificate_versions: certificateVersions, identities, merges, webhook_endpoints: webhookEndpoints };
  });
}
