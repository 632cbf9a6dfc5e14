/** FrontCore endpoints used by the connector, all through the shared ProviderHttpClient (X-API-Key redacted). */
import { endpointUrl, parsePayload, type ProviderHttpClient } from '../http/index.ts';
import { diplomasResponseSchema, participantsResponseSchema, type Diploma, type FrontcoreConfig, type Participant } from './schema.ts';

export const PARTICIPANTS = 'GET /v2/participants';
export const DIPLOMAS = 'GET /v2/diplomas';
/** "limit (default 75, max 250)" (frontcore-notes.md): the largest page means the fewest requests. */
export const PARTICIPANTS_PAGE_LIMIT = 250;

const headers = (config: FrontcoreConfig): Record<string, string> => ({ 'X-API-Key': config.api_key });

// GET https://api.frontcore.com/v2/participants?limit=250&page=N&updated_at_min=YYYY-MM-DD HH:MM:SS
export async function listParticipants(http: ProviderHttpClient, config: FrontcoreConfig, query: { page: number; updated_at_min?: string | null }, signal?: AbortSignal): Promise<Participant[]> {
  const res = await http.request<unknown>({
    method: 'GET',
    url: endpointUrl(config.base_url, 'v2/participants'),
    headers: headers(config),
    query: { limit: PARTICIPANTS_PAGE_LIMIT, page: query.page, updated_at_min: query.updated_at_min ?? undefined },
    endpoint: PARTICIPANTS,
    ...(signal === undefined ? {} : { signal }),
  });
  return parsePayload(PARTICIPANTS, participantsResponseSchema, res.data);
}

// GET https://api.frontcore.com/v2/diplomas?user_id=N[&participant_id=N][&ttl=S]   ("At least one parameter is required.")
export async function listDiplomas(http: ProviderHttpClient, config: FrontcoreConfig, query: { user_id?: number; participant_id?: number; ttl?: number }, signal?: AbortSignal): Promise<Diploma[]> {
  const res = await http.request<unknown>({
    method: 'GET',
    url: endpointUrl(config.base_url, 'v2/diplomas'),
    headers: headers(config),
    query: { user_id: query.user_id, participant_id: query.participant_id, ttl: query.ttl },
    endpoint: DIPLOMAS,
    ...(signal === undefined ? {} : { signal }),
  });
  return parsePayload(DIPLOMAS, diplomasResponseSchema, res.data).items;
}
