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

export interface RunSummary {
  id: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  error?: string | { code: string; message: string } | null;
  report?: RunReport | null;
  source?: string;
  source_id?: string;
}

export interface RunReport {
  pages?: number;
  duration_ms?: number;
  certificates?: { created: number; updated: number; unchanged: number; deleted: number };
  requests_by_endpoint?: Record<string, number>;
  throttled_429?: number;
  retries?: number;
  error?: { code: string; message: string } | null;
}

export interface SourceView {
  id: string;
  slug: string;
  provider: string;
  enabled: boolean;
  has_credentials: boolean;
  settings: Record<string, unknown>;
  certificate_count?: number;
  last_run?: RunSummary | null;
  next_sync_at?: string | null;
}

export function errorText(error: RunSummary['error'] | RunReport['error']): string | null {
  if (error === null || error === undefined) return null;
  return typeof error === 'string' ? error : error.message;
}
