/**
 * Changes to the Open edX records, shared by the API (POST / PATCH) and the control routes. Every
 * change stamps `modified` with the server clock, as Django's `auto_now` does on every save.
 */
import { addCredential, addUser, findUserCredential, KIND_RUN, type Attribute, type OpenedxData } from './data.ts';

/** The request time in microseconds (the server clock has millisecond precision). */
export const clockUs = (now: Date): number => now.getTime() * 1000;

/**
 * The learner behind a username: an existing LMS user, else a new one (the Credentials service
 * creates its user rows on first use). A new user who is a world person by email is linked to them.
 */
export function ensureUser(data: OpenedxData, username: string, lmsUserId?: number): number {
  const known = data.users.byUsername.get(username);
  if (known !== undefined) return known;
  const id = lmsUserId !== undefined && !data.users.byLmsId.has(lmsUserId) ? lmsUserId : data.nextLmsUserId;
  const email = username.trim().toLowerCase();
  const person = email.includes('@') ? data.world.people.find((p) => p.email === email) : undefined;
  return addUser(data, username, id, person?.key ?? `lms-${id}`, person?.index ?? -1);
}

export interface IssueInput {
  user: number;
  kind: number;
  target: number;
  status: number;
  attributes?: readonly Attribute[];
  nowUs: number;
  createdUs?: number;
  /** Final grade in basis points (course runs; control routes only). */
  gradeBp?: number;
}

/**
 * Upstream's Accreditor: update_or_create on (username, credential). A second award of the same
 * program / run updates the existing row (status, attributes by name) and keeps its uuid.
 */
export function issueCredential(data: OpenedxData, input: IssueInput): { row: number; created: boolean } {
  const t = data.credentials;
  const existing = findUserCredential(data, input.user, input.kind, input.target);
  if (existing >= 0) {
    t.status[existing] = input.status;
    if (input.attributes && input.attributes.length > 0) t.attributes[existing] = mergeAttributes(t.attributes[existing] ?? [], input.attributes);
    t.modified[existing] = Math.max(input.nowUs, t.created[existing] as number);
    data.version++;
    return { row: existing, created: false };
  }
  const created = input.createdUs ?? input.nowUs;
  const row = addCredential(data, {
    user: input.user,
    kind: input.kind,
    target: input.target,
    status: input.status,
    created,
    modified: Math.max(input.nowUs, created),
    // A credential created through the API has no grade until the LMS sends one.
    grade: input.kind === KIND_RUN && input.gradeBp !== undefined ? input.gradeBp : -1,
    attributes: input.attributes ?? [],
  });
  return { row, created: true };
}

/** Attributes are keyed by name: a known name gets the new value, a new name is added. */
export function mergeAttributes(current: readonly Attribute[], incoming: readonly Attribute[]): readonly Attribute[] {
  const out = current.map((a) => ({ ...a }));
  for (const a of incoming) {
    const same = out.find((x) => x.name === a.name);
    if (same) same.value = a.value;
    else out.push({ name: a.name, value: a.value });
  }
  return out;
}

export function setStatus(data: OpenedxData, row: number, status: number, nowUs: number): void {
  data.credentials.status[row] = status;
  data.credentials.modified[row] = Math.max(nowUs, data.credentials.created[row] as number);
  data.version++;
}
