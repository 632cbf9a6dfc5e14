/**
 * Finding people: search by name, email or national id, and the short summaries lists show (emails, certificate
 * count). People merged into someone else are not found by search; their page still answers (getPerson).
 */
import { sql } from 'kysely';
import { normalizeNationalId } from '../domain/identity.ts';
import { chunk, VALUES_PER_LIST, type StoreContext } from './context.ts';
import { decodeKeyCursor, encodeKeyCursor } from './cursor.ts';
import { nationalIdHmac } from './national-id.ts';
import { toPerson, type StoredPerson } from './people.ts';

/** Tags the search's cursors, (display name, id), so another list's cursor is refused here. */
const PEOPLE_CURSOR = 'people';

/** A person as lists show them: never the national id itself. */
export interface PersonSummary extends StoredPerson {
  /** The person's email identities, sorted. */
  emails: string[];
  certificate_count: number;
}

export interface PeopleSearchQuery {
  /**
   * Matches a display name (case-insensitive, anywhere in it), an email identity (anywhere in it), or exactly a
   * national id (compared by its HMAC; spaces and dashes ignored). Empty or absent: everyone.
   */
  q?: string;
  /** Default 100, at most 1000. */
  limit?: number;
  cursor?: string | null;
}

export interface PeopleSearchPage {
  items: PersonSummary[];
  next_cursor: string | null;
}

export interface PeopleSearch {
  /** In (display name, id) order; people merged into another are left out. */
  searchPeople(tenantId: string, query?: PeopleSearchQuery): Promise<PeopleSearchPage>;
  /** Summaries of these people of the tenant (merged-away ones too); unknown ids are absent from the map. */
  summarizePeople(tenantId: string, personIds: readonly string[]): Promise<Map<string, PersonSummary>>;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/** National ids are 6 to 20 digits (domain/identity.ts); only such a query is looked up as one. */
const NATIONAL_ID_QUERY = /^[\d\s.-]+$/;

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function createPeopleSearch(ctx: StoreContext): PeopleSearch {
  const { db, box } = ctx;

  async function summarize(tenantId: string, people: readonly StoredPerson[]): Promise<PersonSummary[]> {
    const emails = new Map<string, string[]>();
    const counts = new Map<string, number>();
    for (const ids of chunk(
      people.map((p) => p.id),
      VALUES_PER_LIST,
    )) {
      const identityRows = await db
        .selectFrom('person_identities')
        .select(['person_id', 'value'])
        .where('tenant_id', '=', tenantId)
        .where('kind', '=', 'email')
        .where('person_id', 'in', ids)
        .execute();
      for (const r of identityRows) {
        if (r.value !== null) emails.set(r.person_id, [...(emails.get(r.person_id) ?? []), r.value]);
      }
      const countRows = await db
        .selectFrom('certificates')
        .select(['person_id', (eb) => eb.fn.countAll().as('n')])
        .where('tenant_id', '=', tenantId)
        .where('person_id', 'in', ids)
        .groupBy('person_id')
        .execute();
      for (const r of countRows) if (r.person_id !== null) counts.set(r.person_id, Number(r.n));
    }
    return people.map((p) => ({
      ...p,
      emails: (emails.get(p.id) ?? []).sort(),
      certificate_count: counts.get(p.id) ?? 0,
    }));
  }

  return {
    async searchPeople(tenantId, query = {}) {
      const limit = Math.min(Math.max(Math.trunc(query.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
      const q = query.q?.trim() ?? '';
      const nameKey = sql<string>`coalesce(${sql.ref('people.display_name')}, '')`;
      let select = db
        .selectFrom('people')
        .selectAll('people')
        .where('people.tenant_id', '=', tenantId)
        .where('people.merged_into', 'is', null);
      if (q !== '') {
        const pattern = likePattern(q.toLowerCase());
        const digits = NATIONAL_ID_QUERY.test(q) ? normalizeNationalId(q) : null;
        const hmac = digits !== null && digits.length >= 6 && digits.length <= 20 ? nationalIdHmac(box, digits) : null;
        select = select.where((eb) => {
          const emailHolders = eb
            .selectFrom('person_identities as pi')
            .select('pi.person_id')
            .where('pi.tenant_id', '=', tenantId)
            .where('pi.kind', '=', 'email')
            .where(sql<boolean>`${sql.ref('pi.value')} like ${pattern} escape '\\'`);
          const alternatives = [
            sql<boolean>`lower(${sql.ref('people.display_name')}) like ${pattern} escape '\\'`,
            eb('people.id', 'in', emailHolders),
          ];
          if (hmac !== null) {
            alternatives.push(eb('people.national_id_hmac', '=', hmac));
            alternatives.push(
              eb(
                'people.id',
                'in',
                eb
                  .selectFrom('person_identities as pn')
                  .select('pn.person_id')
                  .where('pn.tenant_id', '=', tenantId)
                  .where('pn.kind', '=', 'national_id')
                  .where('pn.value_hmac', '=', hmac),
              ),
            );
          }
          return eb.or(alternatives);
        });
      }
      if (query.cursor) {
        const after = decodeKeyCursor(PEOPLE_CURSOR, query.cursor);
        select = select.where((eb) =>
          eb.or([eb(nameKey, '>', after.key), eb.and([eb(nameKey, '=', after.key), eb('people.id', '>', after.id)])]),
        );
      }
      const rows = await select.orderBy(nameKey).orderBy('people.id').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: await summarize(tenantId, page.map(toPerson)),
        next_cursor: rows.length > limit && last !== undefined ? encodeKeyCursor(PEOPLE_CURSOR, { key: last.display_name ?? '', id: last.id }) : null,
      };
    },

    async summarizePeople(tenantId, personIds) {
      const people: StoredPerson[] = [];
      for (const ids of chunk([...new Set(personIds)], VALUES_PER_LIST)) {
        const rows = await db.selectFrom('people').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
        people.push(...rows.map(toPerson));
      }
      return new Map((await summarize(tenantId, people)).map((s) => [s.id, s]));
    },
  };
}
