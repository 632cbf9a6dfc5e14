/**
 * In-process events for the UI and other listeners (GET /v1/events): sync progress and certificate changes, always
 * scoped to a tenant. One bus per process, built by createEventBus() and passed to whoever publishes or listens.
 */
export type HubEvent =
  | {
      type: 'sync.started';
      source_id: string;
      source: string;
      run_id: string | null;
    }
  | {
      type: 'sync.progress';
      source_id: string;
      source: string;
      run_id: string | null;
      done: number;
      total: number | null;
      created: number;
      updated: number;
      unchanged: number;
    }
  | {
      type: 'sync.finished';
      source_id: string;
      source: string;
      run_id: string | null;
      status: 'succeeded' | 'failed';
      error: string | null;
    }
  | {
      type: 'certificates.changed';
      source_id: string;
      source: string;
      created: number;
      updated: number;
      deleted: number;
    };

export type HubEventListener = (event: HubEvent) => void;

export interface EventBus {
  publish(tenantId: string, event: HubEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(tenantId: string, listener: HubEventListener): () => void;
  /** Listeners currently subscribed, over all tenants (for metrics and tests). */
  listenerCount(): number;
}

export function createEventBus(): EventBus {
  const listeners = new Map<string, Set<HubEventListener>>();
  return {
    publish(tenantId, event) {
      for (const listener of [...(listeners.get(tenantId) ?? [])]) {
        try {
          listener(event);
        } catch {
          // A failing listener (a closed connection) must not stop the others or the publisher.
        }
      }
    },
    subscribe(tenantId, listener) {
      let set = listeners.get(tenantId);
      if (set === undefined) {
        set = new Set();
        listeners.set(tenantId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(tenantId);
      };
    },
    listenerCount() {
      let n = 0;
      for (const set of listeners.values()) n += set.size;
      return n;
    },
  };
}
