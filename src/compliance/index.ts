/**
 * Does X hold Y: for one person or many (status checks), or for everyone of a tenant (a requirement's compliance
 * table, the expiring report). Live provider checks are in live.ts.
 */
export type { PersonRef } from './people.ts';
export type { ComplianceQuery, CompliancePage, ComplianceRow, ComplianceSummary, RosterCompliance } from './roster.ts';
export type { ExpiringItem, ExpiringPage, ExpiringQuery, ExpiringReport } from './expiring.ts';
export { createComplianceService, type ComplianceDeps, type ComplianceService } from './service.ts';
export {
  MAX_BULK_PEOPLE,
  personQuerySchema,
  refineScope,
  statusScopeShape,
  type IdentifiedBy,
  type PersonQuery,
  type StatusScope,
} from './person-query.ts';
export {
  checkPeople,
  checkStatus,
  DEFAULT_WARN_DAYS,
  findRequirement,
  type AchievementAnswer,
  type AchievementRef,
  type CheckedPerson,
  type CheckStatusOptions,
  type RequirementAnswer,
  type StatusAnswer,
  type StatusResult,
} from './status-check.ts';
