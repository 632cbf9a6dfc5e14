/**
 * Where each encrypted column's ciphertexts belong (the AES-GCM associated data, secrets.ts): a ciphertext moved to
 * another row (another source, person, certificate or tenant) no longer decrypts.
 */
import type { SecretPlace } from '../secrets.ts';

export function sourceCredentialsPlace(tenantId: string, sourceId: string): SecretPlace {
  return { field: 'sources.credentials', tenant_id: tenantId, source_id: sourceId };
}

export function personNationalIdPlace(tenantId: string, personId: string): SecretPlace {
  return { field: 'people.national_id', tenant_id: tenantId, person_id: personId };
}

/**
 * A certificate's subject national id, in the certificate and each of its versions: bound to the certificate's key
 * (tenant, source, external id), which is known before the row (and its id) exists and never changes.
 */
export function certificateNationalIdPlace(tenantId: string, sourceId: string, externalId: string): SecretPlace {
  return { field: 'certificates.subject_national_id', tenant_id: tenantId, source_id: sourceId, external_id: externalId };
}

export function webhookSecretsPlace(tenantId: string, endpointId: string): SecretPlace {
  return { field: 'webhook_endpoints.secrets', tenant_id: tenantId, endpoint_id: endpointId };
}

export const KEY_CHECK_PLACE: SecretPlace = { field: 'meta.secret_key_check' };
