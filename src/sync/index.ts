export { runSourceSync, type HttpClient, type RunSourceSyncOptions, type SyncProgress, type SyncSession } from './engine.ts';
export { createSyncLauncher, type BackgroundSyncLauncher, type LaunchedRun, type LaunchOptions } from './launcher.ts';
export { startStoredScheduler, type StoredSyncScheduler } from './stored-scheduler.ts';
export { startSyncScheduler, jittered, type ScheduledSource, type SchedulerOptions, type SyncScheduler } from './scheduler.ts';
export { acquireSourceLock, DEFAULT_LOCK_TTL_MS, type HeldLock } from './lock.ts';
export { notStartedReport, type RequestStats, type SyncReport } from './report.ts';
