/** What one HTTP client sent and received; the sync run report shows it. Every attempt counts, retries included. */
export interface HttpStats {
  /** Requests sent, retries included. */
  requests: number;
  requests_by_endpoint: Record<string, number>;
  responses_by_status: Record<string, number>;
  throttled_429: number;
  retries: number;
  /** Response body bytes received. */
  bytes: number;
}

export interface HttpStatsRecorder {
  request: (endpoint: string) => void;
  response: (status: number) => void;
  throttled: () => void;
  retry: () => void;
  bytes: (n: number) => void;
  snapshot: () => HttpStats;
  reset: () => void;
}

export function createHttpStats(): HttpStatsRecorder {
  let state: HttpStats;
  const reset = (): void => {
    state = { requests: 0, requests_by_endpoint: {}, responses_by_status: {}, throttled_429: 0, retries: 0, bytes: 0 };
  };
  reset();
  const bump = (rec: Record<string, number>, key: string): void => {
    rec[key] = (rec[key] ?? 0) + 1;
  };
  return {
    request: (endpoint) => {
      state.requests += 1;
      bump(state.requests_by_endpoint, endpoint);
    },
    response: (status) => bump(state.responses_by_status, String(status)),
    throttled: () => {
      state.throttled_429 += 1;
    },
    retry: () => {
      state.retries += 1;
    },
    bytes: (n) => {
      state.bytes += n;
    },
    snapshot: () => structuredClone(state),
    reset,
  };
}
