/** Every route module of the API, in the order the OpenAPI document lists them. One line per module. */
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { registerCertificateRoutes } from './certificates.ts';
import { registerComplianceRoutes } from './compliance.ts';
import { registerEventRoutes } from './events.ts';
import { registerPeopleRoutes } from './people.ts';
import { registerReportRoutes } from './reports.ts';
import { registerRequirementRoutes } from './requirements.ts';
import { registerSourceRoutes } from './sources.ts';
import { registerStatusRoutes } from './status.ts';
import { registerSyncRunRoutes } from './sync-runs.ts';
import { registerSystemRoutes } from './system.ts';
import { registerProviderRoutes } from './providers.ts';
import { registerWebhookRoutes } from './webhooks.ts';
import { registerPushRoutes } from './pushes.ts';

export function registerAllRoutes(table: RouteTable, deps: RouteDeps): void {
  registerSystemRoutes(table, deps);
  registerCertificateRoutes(table, deps);
  registerPeopleRoutes(table, deps);
  registerProviderRoutes(table, deps);
  registerSourceRoutes(table, deps);
  registerSyncRunRoutes(table, deps);
  registerEventRoutes(table, deps);
  registerStatusRoutes(table, deps);
  registerRequirementRoutes(table, deps);
  registerComplianceRoutes(table, deps);
  registerReportRoutes(table, deps);
  registerWebhookRoutes(table, deps);
  registerPushRoutes(table, deps);
}
