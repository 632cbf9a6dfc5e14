export * from './certificate.ts';
export * from './validity.ts';
export * from './identity.ts';
export * from './person.ts';
