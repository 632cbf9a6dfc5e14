import type { Kysely } from 'kysely';

/**
 * The sync lock's fencing token (issue 13, finding 9): bumped on every takeover, and checked with the owner inside
 * each page's transaction, so a run whose lock was taken over cannot commit another page.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sync_locks').addColumn('fence', 'integer', (c) => c.notNull().defaultTo(1)).execute();
}
