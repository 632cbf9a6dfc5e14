/** Secrets never leave certhub: every error and log line about a provider request goes through here. */
const SECRET_PARAMS = ['api_key', 'apikey', 'token', 'access_token', 'client_secret', 'password', 'secret', 'key'];
const SECRET_HEADERS = ['authorization', 'x-api-key', 'cookie', 'proxy-authorization'];
export const REDACTED = '***';

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])) {
      out = out.split(form).join(REDACTED);
    }
  }
  // Query parameters that carry credentials, whatever their value.
  return out.replace(new RegExp(`([?&](?:${SECRET_PARAMS.join('|')})=)[^&#\\s"']*`, 'gi'), `$1${REDACTED}`);
}

export function redactUrl(url: string | URL, secrets: readonly string[]): string {
  return redact(String(url), secrets);
}

export function redactHeaders(headers: Record<string, string>, secrets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = SECRET_HEADERS.includes(k.toLowerCase()) ? REDACTED : redact(v, secrets);
  return out;
}
