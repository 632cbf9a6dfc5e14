/** Every route module of the API, in the order the OpenAPI document lists them. One line per module. */
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { registerRequirementRoutes } from './requirements.ts';
import { registerSystemRoutes } from './system.ts';

export function registerAllRoutes(table: RouteTable, deps: RouteDeps): void {
  registerSystemRoutes(table, deps);
  registerRequirementRoutes(table, deps);
}
