// Wall-clock time formats live in the domain (connectors read them too); simulators import them from here.
export * from '../../domain/time.ts';
