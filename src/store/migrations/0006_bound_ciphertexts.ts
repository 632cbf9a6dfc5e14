import type { Kysely } from 'kysely';
import type { SecretBox, SecretPlace } from '../../secrets.ts';
import type { Database } from '../schema.ts';
import {
  certificateNationalIdPlace,
  KEY_CHECK_PLACE,
  personNationalIdPlace,
  sourceCredentialsPlace,
} from '../secret-places.ts';

/** Rows re-encrypted per read; the whole upgrade is still one transaction (migrate.ts), so an interruption keeps all v1. */
const BATCH = 500;
const LEGACY = 'v1.%';

/**
 * Finding 14: every ciphertext written before associated data (v1) is re-encrypted as v2, bound to its row
 * (secret-places.ts). Only v1 rows are touched, so running it again (or after a partial run) changes nothing more.
 * Needs the secret key, so the migrator hands it over (migrate.ts).
 */
export async function up(unknownDb: Kysely<unknown>, box: SecretBox): Promise<void> {
  // The columns read here are all from 0001, so the current typed schema describes them.
  const db = unknownDb as Kysely<Database>;
  const reseal = (token: string, place: SecretPlace): string => box.encrypt(box.decryptLegacy(token), place);

  for (;;) {
    const rows = await db
      .selectFrom('sources')
      .select(['id', 'tenant_id', 'credentials_ciphertext'])
      .where('credentials_ciphertext', 'like', LEGACY)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const r of rows) {
      const token = reseal(r.credentials_ciphertext ?? '', sourceCredentialsPlace(r.tenant_id, r.id));
      await db.updateTable('sources').set({ credentials_ciphertext: token }).where('id', '=', r.id).execute();
    }
    if (rows.length < BATCH) break;
  }

  for (;;) {
    const rows = await db
      .selectFrom('people')
      .select(['id', 'tenant_id', 'national_id_ciphertext'])
      .where('national_id_ciphertext', 'like', LEGACY)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const r of rows) {
      const token = reseal(r.national_id_ciphertext ?? '', personNationalIdPlace(r.tenant_id, r.id));
      await db.updateTable('people').set({ national_id_ciphertext: token }).where('id', '=', r.id).execute();
    }
    if (rows.length < BATCH) break;
  }

  for (;;) {
    const rows = await db
      .selectFrom('certificates')
      .select(['id', 'tenant_id', 'source_id', 'external_id', 'subject_national_id_ciphertext'])
      .where('subject_national_id_ciphertext', 'like', LEGACY)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    for (const r of rows) {
      const place = certificateNationalIdPlace(r.tenant_id, r.source_id, r.external_id);
      const token = reseal(r.subject_national_id_ciphertext ?? '', place);
      await db.updateTable('certificates').set({ subject_national_id_ciphertext: token }).where('id', '=', r.id).execute();
    }
    if (rows.length < BATCH) break;
  }

  for (;;) {
    const rows = await db
      .selectFrom('certificate_versions as v')
      .innerJoin('certificates as c', 'c.id', 'v.certificate_id')
      .select(['v.id', 'c.tenant_id', 'c.source_id', 'c.external_id', 'v.subject_national_id_ciphertext'])
      .where('v.subject_national_id_ciphertext', 'like', LEGACY)
      .orderBy('v.id')
      .limit(BATCH)
      .execute();
    for (const r of rows) {
      const place = certificateNationalIdPlace(r.tenant_id, r.source_id, r.external_id);
      const token = reseal(r.subject_national_id_ciphertext ?? '', place);
      await db.updateTable('certificate_versions').set({ subject_national_id_ciphertext: token }).where('id', '=', r.id).execute();
    }
    if (rows.length < BATCH) break;
  }

  const check = await db.selectFrom('meta').select('value').where('key', '=', 'secret_key_check').executeTakeFirst();
  if (check !== undefined && box.isLegacy(check.value)) {
    await db.updateTable('meta').set({ value: reseal(check.value, KEY_CHECK_PLACE) }).where('key', '=', 'secret_key_check').execute();
  }
}
