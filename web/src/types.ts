/** The API's shapes as the UI reads them (see /openapi.json for the full ones). */
/** The API's own types: a certificate as it answers one, and a provider of GET /v1/providers. */
export type { Certificate } from '../../src/domain/certificate.ts';
export type { ProviderView } from '../../src/api/provider-view.ts';

/** A sync run as lists show it; the detail adds requests_by_endpoint, throttled_429 and retries. */
export interface RunSummary {
  id: string;
  source: string;
  provider: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  duration_ms?: number | null;
  pages?: number | null;
  certificates?: { created: number; updated: number; unchanged: number; deleted: number } | null;
  error?: { code: string; message: string } | null;
  requests_by_endpoint?: Record<string, number>;
  throttled_429?: number;
  retries?: number;
}

/** A source; its `id` is the slug it was configured with. */
export interface SourceView {
  id: string;
  provider: string;
  enabled: boolean;
  has_credentials: boolean;
  syncing?: boolean;
  settings: Record<string, unknown>;
  certificates?: number;
  last_run?: RunSummary | null;
  next_sync_at?: string | null;
}

export function errorText(error: RunSummary['error']): string | null {
  return error === null || error === undefined ? null : error.message;
}

