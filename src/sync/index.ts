export { runSourceSync, type HttpClient, type RunSourceSyncOptions, type SyncProgress, type SyncSourceInput } from './engine.ts';
export { syncConfiguredSource, startConfiguredScheduler, type SyncDeps } from './configured.ts';
export { startSyncScheduler, jittered, type ScheduledSource, type SchedulerOptions, type SyncScheduler } from './scheduler.ts';
export { acquireSourceLock, DEFAULT_LOCK_TTL_MS, type HeldLock } from './lock.ts';
export { notStartedReport, type RequestStats, type SyncReport } from './report.ts';
export { defaultSyncDeps } from './deps.ts';
