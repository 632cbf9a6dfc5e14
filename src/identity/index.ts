export { createPersonResolver, subjectKeys } from './resolver.ts';
export { planResolution, type IdentityIndex, type ResolutionPlan, type SubjectKeys } from './plan.ts';
export type { IdentityLookup, IdentityPort, KnownIdentity } from './port.ts';
