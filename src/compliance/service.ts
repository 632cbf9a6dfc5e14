/**
 * The compliance service: a requirement's table for every person of a tenant (roster.ts) and the expiring report
 * (expiring.ts), built once over a store and a clock (no HTTP here; the API and the CLI present it).
 */
import type { Store } from '../store/index.ts';
import { createExpiringReport, type ExpiringReport } from './expiring.ts';
import { createRosterCompliance, type RosterCompliance } from './roster.ts';

export interface ComplianceService extends RosterCompliance, ExpiringReport {}

export interface ComplianceDeps {
  store: Store;
  now: () => Date;
  /** People (and expiring certificates for CSV) read per query; default 2000 (and 1000). Tests make it small. */
  batchSize?: number;
}

export function createComplianceService(deps: ComplianceDeps): ComplianceService {
  const { store, now, batchSize } = deps;
  return {
    ...createRosterCompliance({ store, now, peoplePerRead: batchSize }),
    ...createExpiringReport({ store, now, endingPerRead: batchSize }),
  };
}
