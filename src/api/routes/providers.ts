/**
 * GET /v1/providers: the providers this hub can talk to, with what the add-source form asks for each (the web UI
 * builds its form from this) and what each can do. Everything here comes from the providers' own definitions.
 */
import { z } from 'zod';
import { allProviders } from '../../providers/registry.ts';
import type { AnyProvider } from '../../providers/provider.ts';
import type { RouteDeps } from '../deps.ts';
import type { RouteTable } from '../route.ts';

export const settingsFieldSchema = z.object({
  name: z.string().describe('The setting, dotted as nested in certhub.yaml: base_url, oauth.token_url'),
  label: z.string(),
  secret: z.boolean().describe('A credential: write-only, never shown again'),
  optional: z.boolean(),
  placeholder: z.string().nullable(),
});

export const providerViewSchema = z.object({
  id: z.string().describe('What a source says as its `provider`'),
  title: z.string(),
  completeness: z.enum(['incremental', 'full-scan']).describe('incremental: changes since the last run; full-scan: everything every run, with deletions swept'),
  rate_limit: z
    .object({ requests: z.number(), per_seconds: z.number() })
    .nullable()
    .describe("The account's documented request limit (certhub paces at 90% of it unless a source says otherwise); null: none documented"),
  files: z.boolean().describe('Hands out certificate files (PDFs)'),
  live_status: z.boolean().describe('Answers live status checks (?live=true)'),
  settings: z.array(settingsFieldSchema).describe('The add-source form, in order'),
});

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
