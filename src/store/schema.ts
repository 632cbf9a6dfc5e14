/**
 * The typed schema the migrations create. Identical on SQLite and PostgreSQL: ids are generated in code
 * (ids.ts), timestamps are ISO-8601 UTC TEXT, dates are YYYY-MM-DD TEXT, JSON is TEXT, booleans are 0/1.
 */
export interface Database {
  meta: MetaTable;
  tenants: TenantsTable;
  sources: SourcesTable;
  people: PeopleTable;
  person_identities: PersonIdentitiesTable;
  certificates: CertificatesTable;
  certificate_versions: CertificateVersionsTable;
  achievements: AchievementsTable;
  sync_checkpoints: SyncCheckpointsTable;
  sync_runs: SyncRunsTable;
  sync_locks: SyncLocksTable;
  sync_scans: SyncScansTable;
  person_suggestions: PersonSuggestionsTable;
  api_keys: ApiKeysTable;
  requirements: RequirementsTable;
  file_blobs: FileBlobsTable;
  person_merges: PersonMergesTable;
  webhook_endpoints: WebhookEndpointsTable;
  events: EventsTable;
  outbox: OutboxTable;
  event_notices: EventNoticesTable;
  push_rules: PushRulesTable;
  pushes: PushesTable;
  push_pacing: PushPacingTable;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface TenantsTable {
  id: string;
  slug: string;
  name: string;
  created_at: string;
}

export interface SourcesTable {
  id: string;
  tenant_id: string;
  slug: string;
  provider: string;
  /** Non-secret settings (base_url, timezone, rate limit, ...). */
  config_json: string;
  /** SecretBox token of the credentials object as JSON; only getSourceCredentials decrypts it. */
  credentials_ciphertext: string | null;
  enabled: number;
  created_at: string;
  updated_at: string;
}

export interface PeopleTable {
  id: string;
  tenant_id: string;
  display_name: string | null;
  date_of_birth: string | null;
  national_id_ciphertext: string | null;
  national_id_hmac: string | null;
  created_at: string;
  updated_at: string;
  /** 0003: set while this person is merged into another (its identities and certificates moved there). */
  merged_into: string | null;
}

export interface PersonIdentitiesTable {
  id: string;
  tenant_id: string;
  person_id: string;
  kind: string;
  source_id: string | null;
  /** Normalized value; NULL for national_id, which is only kept as value_hmac. */
  value: string | null;
  value_hmac: string | null;
  matched_by: string;
  created_at: string;
}

/** The normalized fields a certificate and each of its versions share. */
export interface CertificateFields {
  status: string;
  /** The subject without national_id (that is only in the two columns below). */
  subject_json: string;
  subject_national_id_hmac: string | null;
  subject_national_id_ciphertext: string | null;
  achievement_type: string;
  achievement_external_id: string;
  achievement_title: string | null;
  achievement_code: string | null;
  issued_at: string | null;
  valid_from: string | null;
  valid_until: string | null;
  serial: string | null;
  file_available: number;
  raw_json: string;
  payload_hash: string;
}

export interface CertificatesTable extends CertificateFields {
  id: string;
  tenant_id: string;
  source_id: string;
  external_id: string;
  person_id: string | null;
  file_sha256: string | null;
  first_seen_at: string;
  updated_at: string;
  last_seen_at: string;
}

export interface CertificateVersionsTable extends CertificateFields {
  id: string;
  certificate_id: string;
  version: number;
  recorded_at: string;
}

export interface AchievementsTable {
  id: string;
  source_id: string;
  type: string;
  external_id: string;
  title: string | null;
  code: string | null;
  extra_json: string | null;
  created_at: string;
  updated_at: string;
}

export interface SyncCheckpointsTable {
  source_id: string;
  checkpoint_json: string;
  updated_at: string;
}

export interface SyncRunsTable {
  id: string;
  source_id: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  report_json: string | null;
  error: string | null;
}

export interface SyncLocksTable {
  source_id: string;
  owner: string;
  expires_at: string;
  /** 0002: the run holding the lock (null while it is being started). */
  run_id: string | null;
  /** 0002 */
  acquired_at: string | null;
  /** 0005: the fencing token, bumped on every takeover. */
  fence: number;
}

/** 0002: when the full scan now in progress (or resumed) began; its sweep compares last_seen_at with this. */
export interface SyncScansTable {
  source_id: string;
  started_at: string;
  run_id: string;
}

/** 0002: two people who may be one; never merged automatically. person_a < person_b. */
export interface PersonSuggestionsTable {
  id: string;
  tenant_id: string;
  person_a: string;
  person_b: string;
  reason: string;
  status: string;
  created_at: string;
  updated_at: string;
}

/** 0003 */
export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  role: string;
  prefix: string;
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** 0003 */
export interface RequirementsTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  rule_json: string;
  created_at: string;
  updated_at: string;
}

/** 0003: archived certificate files, content-addressed. */
export interface FileBlobsTable {
  sha256: string;
  content_type: string;
  size: number;
  bytes: Buffer;
  created_at: string;
}

/** 0003 */
export interface PersonMergesTable {
  id: string;
  tenant_id: string;
  into_person_id: string;
  from_person_id: string;
  moved_json: string;
  created_at: string;
  undone_at: string | null;
}

/** 0007 */
export interface WebhookEndpointsTable {
  id: string;
  tenant_id: string;
  url: string;
  description: string | null;
  event_types_json: string;
  enabled: number;
  secrets_ciphertext: string;
  disabled_reason: string | null;
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

/** 0007 */
export interface EventsTable {
  id: string;
  tenant_id: string;
  type: string;
  occurred_at: string;
  data_json: string;
}

/** 0007 */
export interface OutboxTable {
  id: string;
  tenant_id: string;
  kind: string;
  target_id: string;
  subject_id: string;
  idempotency_key: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  claimed_by: string | null;
  claimed_until: string | null;
  last_attempt_at: string | null;
  last_error: string | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_response: string | null;
  created_at: string;
  finished_at: string | null;
}

/** 0007 */
export interface EventNoticesTable {
  certificate_id: string;
  kind: string;
  valid_until: string;
  created_at: string;
}

/** 0008 */
export interface PushRulesTable {
  id: string;
  tenant_id: string;
  name: string;
  paused: number;
  match_json: string;
  sources_json: string;
  target_source_id: string;
  target_json: string;
  target_key: string;
  usernames_json: string;
  origin: string;
  created_at: string;
  updated_at: string;
}

/** 0008 */
export interface PushesTable {
  id: string;
  tenant_id: string;
  rule_id: string;
  certificate_id: string;
  target_source_id: string;
  target_key: string;
  desired: string;
  state: string;
  remote_id: string | null;
  sent_json: string | null;
  attempt_started_at: string | null;
  verify_until: string | null;
  last_error: string | null;
  pushed_at: string | null;
  verified_at: string | null;
  created_at: string;
  updated_at: string;
}

/** 0008 */
export interface PushPacingTable {
  key: string;
  next_slot_at: string;
}
