/** The API's shapes as the UI reads them (see /openapi.json for the full ones). */
export interface Certificate {
  id: string;
  source: string;
  provider: string;
  external_id: string;
  status: string;
  validity: string;
  person_id: string | null;
  subject: { email: string | null; first_name: string | null; last_name: string | null; provider_user_id: string | null };
  achievement: { type: string; external_id: string; title: string | null; code: string | null };
  issued_at: string | null;
  valid_from: string | null;
  valid_until: string | null;
  file: { available: boolean; sha256: string | null };
  updated_at: string;
}

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

/** A provider this hub can sync (GET /v1/providers), with the settings the add-source form asks for. */
export interface ProviderView {
  id: string;
  title: string;
  completeness: 'incremental' | 'full-scan';
  rate_limit: { requests: number; per_seconds: number } | null;
  files: boolean;
  live_status: boolean;
  settings: { name: string; label: string; secret: boolean; optional: boolean; placeholder: string | null }[];
}
