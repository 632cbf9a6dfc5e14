/**
 * Events that the passage of time causes (issue 16): `certificate.expiring` when a valid certificate's last day comes
 * within the warning window, `certificate.expired` when its last day has passed. Nothing changes in the data at those
 * instants, so a scheduled pass finds them: each is recorded once per certificate and end date (event_notices holds
 * what was told; a renewed end date is told again), and a pass after downtime catches up on what came due meanwhile.
 */
import type { NewEvent } from '../outbound/catalog.ts';
import { addDays } from '../domain/requirement.ts';
import { calendarDate } from '../domain/validity.ts';
import type { StoreContext } from './context.ts';
import { certificateEvent, recordEvents } from './events.ts';

/** Days before its last day that a certificate is announced as expiring. */
export const EXPIRING_WARN_DAYS = 30;
/** How far back a pass looks for certificates that expired while nobody ran it (downtime it catches up on). */
export const EXPIRED_LOOKBACK_DAYS = 30;
const PER_TRANSACTION = 500;

export type TimeNoticeKind = 'expiring' | 'expired';

export interface TimeEventsResult {
  expiring: number;
  expired: number;
}

/**
 * One pass at `now`: every certificate (of every tenant) that came due and has not been told yet gets its event,
 * written with its notice in one transaction; a notice another process wrote first wins (no second event).
 */
export async function recordTimeEvents(ctx: StoreContext, now: Date, opts: { warnDays?: number; lookbackDays?: number } = {}): Promise<TimeEventsResult> {
  const { db } = ctx;
  const today = calendarDate(now);
  const windows: Record<TimeNoticeKind, { from: string; to: string }> = {
    expiring: { from: today, to: addDays(today, opts.warnDays ?? EXPIRING_WARN_DAYS) },
    expired: { from: addDays(today, -(opts.lookbackDays ?? EXPIRED_LOOKBACK_DAYS)), to: addDays(today, -1) },
  };
  const result: TimeEventsResult = { expiring: 0, expired: 0 };
  const at = now.toISOString();
  const tenants = await db.selectFrom('tenants').select('id').orderBy('id').execute();
  for (const { id: tenantId } of tenants) {
    for (const kind of ['expired', 'expiring'] as const) {
      const { from, to } = windows[kind];
      for (;;) {
        const due = await db
          .selectFrom('certificates as c')
          .innerJoin('sources as s', 's.id', 'c.source_id')
          .select(['c.id', 'c.person_id', 'c.source_id', 'c.external_id', 'c.status', 'c.valid_until', 'c.achievement_type', 'c.achievement_external_id', 'c.achievement_code', 's.provider'])
          .where('c.tenant_id', '=', tenantId)
          .where('c.status', '=', 'awarded')
          .where('c.valid_until', '>=', from)
          .where('c.valid_until', '<=', to)
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom('event_notices as n')
                  .select('n.certificate_id')
                  .whereRef('n.certificate_id', '=', 'c.id')
                  .where('n.kind', '=', kind)
                  .whereRef('n.valid_until', '=', 'c.valid_until'),
              ),
            ),
          )
          .orderBy('c.valid_until')
          .orderBy('c.id')
          .limit(PER_TRANSACTION)
          .execute();
        if (due.length === 0) break;
        await db.transaction().execute(async (trx) => {
          const told = await trx
            .insertInto('event_notices')
            .values(due.map((c) => ({ certificate_id: c.id, kind, valid_until: c.valid_until!, created_at: at })))
            .onConflict((oc) => oc.columns(['certificate_id', 'kind', 'valid_until']).doNothing())
            .returning('certificate_id')
            .execute();
          const fresh = new Set(told.map((t) => t.certificate_id));
          const events: NewEvent[] = due
            .filter((c) => fresh.has(c.id))
            .map((c) =>
              certificateEvent(
                kind === 'expiring' ? 'certificate.expiring' : 'certificate.expired',
                c,
                { type: c.achievement_type, external_id: c.achievement_external_id, code: c.achievement_code },
                c.provider,
                at,
              ),
            );
          await recordEvents(ctx, trx, tenantId, events, at);
          result[kind] += events.length;
        });
        if (due.length < PER_TRANSACTION) break;
      }
    }
  }
  return result;
}
