import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { isSensitiveKey, redact, redactError, redactUrl, redactValue } from './redact.ts';

const KEY = 'k3y/with+odd=chars';

describe('redact', () => {
  it('replaces a secret in plain, URL-encoded, form-encoded and JSON-escaped form', () => {
    const text = `plain ${KEY} url ${encodeURIComponent(KEY)} json ${JSON.stringify(KEY)}`;
    expect(redact(text, [KEY])).toBe('plain *** url *** json "***"');
  });

  it('replaces credential query parameters, JSON keys, header values and URL passwords without a secret list', () => {
    expect(redactUrl(new URL('https://api.springest.nl/users/certificates?email=a%40b.no&api_key=abc123'))).toBe(
      'https://api.springest.nl/users/certificates?email=a%40b.no&api_key=***',
    );
    expect(redact('grant_type=client_credentials&client_secret=s3cr3t&token_type=jwt')).toBe('grant_type=client_credentials&client_secret=***&token_type=jwt');
    expect(redact('{"access_token": "eyJhbGciOi", "expires_in": 3600}')).toBe('{"access_token": "***", "expires_in": 3600}');
    expect(redact('Authorization: Basic dXNlcjpwYXNz\nX-API-Key: abc\nAccept: */*')).toBe('Authorization: ***\nX-API-Key: ***\nAccept: */*');
    expect(redact('postgres://certhub:hunter22@db:5432/x')).toBe('postgres://certhub:***@db:5432/x');
  });

  it('leaves ordinary text alone and ignores too-short secrets', () => {
    expect(redact('the token expired; 3 tokens left', ['ab'])).toBe('the token expired; 3 tokens left');
  });

  it('redactValue redacts nested strings and sensitive keys; redactError rebuilds a cause chain', () => {
    expect(redactValue({ headers: { 'X-API-Key': 'whatever', accept: 'json' }, list: [`see ${KEY}`], n: 1 }, [KEY])).toEqual({
      headers: { 'X-API-Key': '***', accept: 'json' },
      list: ['see ***'],
      n: 1,
    });
    const root = Object.assign(new Error(`connect failed for https://x/?api_key=${KEY}`), { code: 'ECONNREFUSED' });
    const err = new AppError('provider_unavailable', 'wrapped', { cause: new Error(`mid ${KEY}`, { cause: root }) });
    const copy = redactError(err, [KEY]) as Error;
    const chain: string[] = [];
    for (let e: unknown = copy; e instanceof Error; e = e.cause) chain.push(`${e.message}|${e.stack ?? ''}|${String((e as { code?: unknown }).code)}`);
    expect(chain).toHaveLength(3);
    expect(chain.join('\n')).not.toContain(KEY);
    expect(chain[2]).toContain('api_key=***');
    expect(chain[2]).toContain('ECONNREFUSED');
  });
});

describe('what is a secret', () => {
  it("finding 16: one redactor: names every provider's credential settings, so logs, details and stored credentials agree", async () => {
    const { allProviders } = await import('./providers/registry.ts');
    for (const provider of allProviders()) {
      for (const path of provider.secrets) expect(isSensitiveKey(path.at(-1)!), `${provider.id}: ${path.join('.')}`).toBe(true);
    }
    expect(redactValue({ oauth: { client_id: 'edx-client-1234', client_secret: 'edx-secret-5678' } })).toEqual({ oauth: { client_id: '***', client_secret: '***' } });
  });
});
