import { requirementRuleSchema, type RequirementRule } from '../domain/requirement.ts';
import { AppError } from '../errors.ts';
import { canonicalJson, isoNow, isUniqueViolation, type StoreContext } from './context.ts';
import type { RequirementsTable } from './schema.ts';

export interface Requirement {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  rule: RequirementRule;
  created_at: string;
  updated_at: string;
}

export interface RequirementInput {
  name: string;
  description?: string | null;
  rule: RequirementRule;
}

export interface RequirementRepository {
  /** AppError('conflict') when the tenant has a requirement of that name. */
  createRequirement(tenantId: string, input: RequirementInput, opts?: { now?: Date }): Promise<Requirement>;
  /** By name. */
  listRequirements(tenantId: string): Promise<Requirement[]>;
  getRequirement(tenantId: string, id: string): Promise<Requirement | null>;
  /** Fields left out stay as they are. AppError('not_found' | 'conflict'). */
  updateRequirement(tenantId: string, id: string, patch: Partial<RequirementInput>, opts?: { now?: Date }): Promise<Requirement>;
  /** AppError('not_found') when there is none. */
  deleteRequirement(tenantId: string, id: string): Promise<void>;
}

function toRequirement(row: RequirementsTable): Requirement {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    name: row.name,
    description: row.description,
    // Stored rules were valid when written; parsing again fills defaults added since.
    rule: requirementRuleSchema.parse(JSON.parse(row.rule_json)),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function nameTaken(name: string, err: unknown): AppError {
  return new AppError('conflict', `a requirement named "${name}" already exists`, { cause: err });
}

export function createRequirementRepository(ctx: StoreContext): RequirementRepository {
  const { db } = ctx;
  const repo: RequirementRepository = {
    async createRequirement(tenantId, input, opts) {
      const now = isoNow(opts?.now);
      const row: RequirementsTable = {
        id: ctx.newId(),
        tenant_id: tenantId,
        name: input.name.trim(),
        description: input.description ?? null,
        rule_json: canonicalJson(requirementRuleSchema.parse(input.rule)),
        created_at: now,
        updated_at: now,
      };
      try {
        await db.insertInto('requirements').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(row.name, err);
        throw err;
      }
      return toRequirement(row);
    },
    async listRequirements(tenantId) {
      const rows = await db.selectFrom('requirements').selectAll().where('tenant_id', '=', tenantId).orderBy('name').orderBy('id').execute();
      return rows.map(toRequirement);
    },
    async getRequirement(tenantId, id) {
      const row = await db.selectFrom('requirements').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toRequirement(row);
    },
    async updateRequirement(tenantId, id, patch, opts) {
      const current = await repo.getRequirement(tenantId, id);
      if (current === null) throw new AppError('not_found', `requirement ${id} not found`);
      const name = patch.name?.trim() ?? current.name;
      try {
        await db
          .updateTable('requirements')
          .set({
            name,
            description: patch.description === undefined ? current.description : patch.description,
            rule_json: canonicalJson(requirementRuleSchema.parse(patch.rule ?? current.rule)),
            updated_at: isoNow(opts?.now),
          })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(name, err);
        throw err;
      }
      const updated = await repo.getRequirement(tenantId, id);
      if (updated === null) throw new AppError('not_found', `requirement ${id} not found`);
      return updated;
    },
    async deleteRequirement(tenantId, id) {
      const result = await db.deleteFrom('requirements').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new AppError('not_found', `requirement ${id} not found`);
    },
  };
  return repo;
}
