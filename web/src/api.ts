/** The hub API from the browser: the key lives in sessionStorage (this tab's session only), errors keep their code. */
const KEY = 'certhub.apiKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function getKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, key);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = getKey();
  return { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...extra };
}

async function failure(res: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, code, message);
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: headers({
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.key === undefined ? {} : { authorization: `Bearer ${init.key}` }),
      }),
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  } catch {
    throw new ApiError(0, 'network', 'certhub cannot be reached; is the server running?');
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Fetches with the key and hands the bytes to the browser as a download (or opens them in a new tab). */
export async function download(path: string, filename: string, opts: { accept?: string; open?: boolean } = {}): Promise<Blob> {
  const res = await fetch(path, { headers: headers({ accept: opts.accept ?? '*/*' }) });
  if (!res.ok) throw await failure(res);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  if (opts.open === true) {
    window.open(url, '_blank', 'noopener');
  } else {
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
  }
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return blob;
}

export interface HubEvent {
  type: string;
  [field: string]: unknown;
}

/**
 * Server-sent events from /v1/events, read with fetch (EventSource cannot send the Authorization header). Reconnects
 * after a pause until `signal` aborts.
 */
export async function streamEvents(onEvent: (event: HubEvent) => void, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch('/v1/events', { headers: headers({ accept: 'text/event-stream' }), signal });
      if (!res.ok || res.body === null) throw await failure(res);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          const type = block.split('\n').find((l) => l.startsWith('event:'))?.slice(6).trim();
          if (data === '') continue;
          try {
            const parsed = JSON.parse(data) as HubEvent;
            onEvent({ ...parsed, type: parsed.type ?? type ?? 'message' });
          } catch {
            // a malformed event is skipped
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) return;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
