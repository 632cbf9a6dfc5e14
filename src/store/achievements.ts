import type { StoreContext } from './context.ts';

/** An achievement as its source's catalog holds it (savePage writes the catalog). */
export interface CatalogAchievement {
  source_id: string;
  type: string;
  external_id: string;
  title: string | null;
  code: string | null;
}

export interface AchievementCatalog {
  /** Every achievement in the source's catalog: what its certificates point at and what it listed with its pages. */
  listSourceCatalog(tenantId: string, sourceId: string): Promise<CatalogAchievement[]>;
  /** The tenant's catalogued achievements coded `code`, compared case-insensitively; empty when no source has it. */
  findByCode(tenantId: string, code: string): Promise<CatalogAchievement[]>;
}

const COLUMNS = ['a.source_id', 'a.type', 'a.external_id', 'a.title', 'a.code'] as const;

export function createAchievementCatalog(ctx: StoreContext): AchievementCatalog {
  const { db } = ctx;
  return {
    async listSourceCatalog(tenantId, sourceId) {
      return db
        .selectFrom('achievements as a')
        .innerJoin('sources as s', 's.id', 'a.source_id')
        .select(COLUMNS)
        .where('s.tenant_id', '=', tenantId)
        .where('a.source_id', '=', sourceId)
        .execute();
    },

    async findByCode(tenantId, code) {
      // lower() folds as JavaScript does on both dialects (connect.ts), so the code is lowered here the same way.
      return db
        .selectFrom('achievements as a')
        .innerJoin('sources as s', 's.id', 'a.source_id')
        .select(COLUMNS)
        .where('s.tenant_id', '=', tenantId)
        .where('a.code', 'is not', null)
        .where((eb) => eb(eb.fn('lower', [eb.ref('a.code')]), '=', code.toLowerCase()))
        .orderBy('a.id')
        .execute();
    },
  };
}
