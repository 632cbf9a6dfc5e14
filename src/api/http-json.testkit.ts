/** Test support for tests that call a running hub over HTTP the way a client does: JSON answers, waits for effects. */

// The answers are read field by field, as a client would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** Waits (generously: a loaded machine is slow) until `done` holds; fails with `what` otherwise. */
export async function until(what: string, done: () => boolean | Promise<boolean>, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `method path` on the hub at `base` with these headers and a JSON body: the status and the parsed answer. */
export async function callJson(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as Json };
}
