/**
 * A rate: `requests` per `perSeconds`. One type for every rate certhub keeps: a provider's documented limit, the pace
 * a source's requests are held to (certhub.yaml writes it `rate_limit: { requests, per_seconds }`), and the API's
 * per-key quota.
 */
export interface RateLimit {
  requests: number;
  perSeconds: number;
  /** Requests that may go back to back after an idle period (provider pacing). Default 1: evenly paced. */
  burst?: number;
}
