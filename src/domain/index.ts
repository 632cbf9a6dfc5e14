export * from './certificate.ts';
