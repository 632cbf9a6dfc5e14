export * from './client.ts';
export * from './limiter.ts';
export * from './paginate.ts';
export * from '../../redact.ts';
export * from './retry.ts';
export * from './stats.ts';
export * from './payload.ts';
export * from './egress.ts';
