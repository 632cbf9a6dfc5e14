import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import type { ProviderHttpClient, ProviderRequest } from '../http/index.ts';
import { postStoryCertificates } from './client.ts';

const recorded = JSON.parse(readFileSync(new URL('./fixtures/story-certificates.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const account = { base_url: 'https://falkor.example.com/acme/api/', token: 'c2VjcmV0' };

/** A ProviderHttpClient that answers every request with `data` and remembers what it was asked. */
function stubHttp(data: unknown): { http: ProviderHttpClient; seen: ProviderRequest[] } {
  const seen: ProviderRequest[] = [];
  const http = {
    request: (req: ProviderRequest) => {
      seen.push(req);
      return Promise.resolve({ status: 200, headers: {}, data });
    },
    redact: (text: string) => text.replaceAll(account.token, '***'),
  } as unknown as ProviderHttpClient;
  return { http, seen };
}

describe('postStoryCertificates', () => {
  it('POSTs the filters to <base_url>/v1/logs/story-certificates with Basic auth, under a stable endpoint name', async () => {
    const { http, seen } = stubHttp(recorded);
    const res = await postStoryCertificates(http, account, { story: 'Story A' });
    expect(res.data.length).toBe((recorded.data as unknown[]).length);
    expect(seen).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: 'https://falkor.example.com/acme/api/v1/logs/story-certificates',
        headers: { authorization: 'Basic c2VjcmV0' },
        json: { story: 'Story A' },
        endpoint: 'POST /v1/logs/story-certificates',
        idempotent: true,
      }),
    ]);
  });

  it('an answer that breaks the documented shape is refused with the path of the problem', async () => {
    const data = structuredClone(recorded) as { data: { story: { type: string } }[] };
    data.data[1]!.story.type = 'Video';
    await expect(postStoryCertificates(stubHttp(data).http, account)).rejects.toThrow(
      /^POST \/v1\/logs\/story-certificates returned an unexpected payload: data\.1\.story\.type: must be one of/,
    );
    const noUrl = structuredClone(recorded) as { data: { certificates: { certificate: Record<string, unknown> }[] }[] };
    delete noUrl.data[0]!.certificates[0]!.certificate.url;
    const err = await postStoryCertificates(stubHttp(noUrl).http, account).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('provider_error');
    expect((err as AppError).message).toContain('data.0.certificates.0.certificate.url');
  });

  it('`{"status":"error"}` is a provider_error even with HTTP 200', async () => {
    const fixture = JSON.parse(readFileSync(new URL('./fixtures/error-401.json', import.meta.url), 'utf8')) as { body: unknown };
    await expect(postStoryCertificates(stubHttp(fixture.body).http, account)).rejects.toMatchObject({
      code: 'provider_error',
      message: 'POST /v1/logs/story-certificates answered status "error": Unauthorized: invalid or missing token',
    });
  });
});
