/**
 * GET /v1/providers: the providers this hub can talk to, with what the add-source form asks for each (the web UI
 * builds its form from this) and what each can do. Everything here comes from the providers' own definitions.
 */
import { z } from 'zod';
import { allProviders } from '../../providers/registry.ts';
import type { AnyProvider } from '../../providers/provider.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';
import { providerViewSchema } from '../provider-view.ts';

function viewOf(provider: AnyProvider): z.output<typeof providerViewSchema> {
  const secret = new Set(provider.secrets.map((path) => path.join('.')));
  return {
    id: provider.id,
    title: provider.title,
    completeness: provider.completeness,
    rate_limit: provider.rateLimit === undefined ? null : { requests: provider.rateLimit.requests, per_seconds: provider.rateLimit.perSeconds },
    files: provider.fetchFile !== undefined,
    live_status: provider.checkStatus !== undefined,
    settings: provider.form.map((f) => ({
      name: f.name,
      label: f.label,
      secret: secret.has(f.name),
      optional: f.optional === true,
      placeholder: f.placeholder ?? null,
    })),
  };
}

export function registerProviderRoutes(table: RouteTable, _deps: RouteDeps): void {
  table.add({
    method: 'GET',
    url: '/v1/providers',
    operationId: 'listProviders',
    summary: 'The providers this hub can sync, with the settings a source of each takes',
    tag: 'sources',
    access: 'read',
    responses: { 200: { description: 'Every provider of this build', schema: z.object({ items: z.array(providerViewSchema) }) } },
    handler() {
      return Promise.resolve({ items: allProviders().map(viewOf) });
    },
  });
}
