/** What a simulator saw: requests by endpoint and status, 429s sent, faults injected. Read via `GET /__sim/counters`. */
export interface CounterSnapshot {
  requests_total: number;
  requests_by_endpoint: Record<string, number>;
  responses_by_status: Record<string, number>;
  throttled_429: number;
  faults_injected: Record<string, number>;
}

export interface Counters {
  request(endpoint: string): void;
  response(status: number): void;
  throttled(): void;
  fault(kind: string): void;
  snapshot(): CounterSnapshot;
  reset(): void;
}

export function createCounters(): Counters {
  let state: CounterSnapshot;
  const reset = (): void => {
    state = { requests_total: 0, requests_by_endpoint: {}, responses_by_status: {}, throttled_429: 0, faults_injected: {} };
  };
  reset();
  const bump = (rec: Record<string, number>, key: string): void => {
    rec[key] = (rec[key] ?? 0) + 1;
  };
  return {
    request(endpoint) {
      state.requests_total += 1;
      bump(state.requests_by_endpoint, endpoint);
    },
    response: (status) => bump(state.responses_by_status, String(status)),
    throttled: () => {
      state.throttled_429 += 1;
    },
    fault: (kind) => bump(state.faults_injected, kind),
    snapshot: () => structuredClone(state),
    reset,
  };
}
