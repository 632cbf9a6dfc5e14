/**
 * `POST /api/v2/credentials/`: award a credential. Validation follows upstream's
 * UserCredentialCreationSerializer (DRF field errors, one key per bad field); the award itself is an
 * update-or-create on (username, credential), so posting the same award twice changes one row.
 */
import { jsonResponse, type SimRequest, type SimResponse, type SimRoute } from '../common/server.ts';
import type { ApiContext } from './api.ts';
import { canonicalUuid } from './catalog.ts';
import { KIND_PROGRAM, KIND_RUN, STATUSES, type Attribute, type OpenedxData } from './data.ts';
import { isObject, parseBody, pyStr, pythonType } from './drf.ts';
import { clockUs, ensureUser, issueCredential } from './mutate.ts';
import { serverErrorPage } from './django.ts';
import { credentialJson } from './present.ts';

type FieldErrors = Record<string, unknown>;

/** DRF CharField: strings (trimmed) and numbers are accepted, anything else is "Not a valid string.". */
function charField(value: unknown, errors: FieldErrors, name: string, maxLength: number): string | undefined {
  if (value === undefined) {
    errors[name] = ['This field is required.'];
    return undefined;
  }
  if (value === null) errors[name] = ['This field may not be null.'];
  else if (typeof value !== 'string' && typeof value !== 'number') errors[name] = ['Not a valid string.'];
  else {
    const text = String(value).trim();
    if (text === '') errors[name] = ['This field may not be blank.'];
    else if (text.length > maxLength) errors[name] = [`Ensure this field has no more than ${maxLength} characters.`];
    else return text;
  }
  return undefined;
}

/** CredentialField.to_internal_value: a program by uuid, or a course run by key; 'crash' where it raises AttributeError. */
function credentialField(data: OpenedxData, value: unknown, errors: FieldErrors): { kind: number; target: number } | 'crash' | undefined {
  if (value === undefined) {
    errors.credential = ['This field is required.'];
    return undefined;
  }
  if (value === null) {
    errors.credential = ['This field may not be null.'];
    return undefined;
  }
  // `data.get("program_uuid")` on anything but a dict: an uncaught AttributeError, Django's 500 page.
  if (!isObject(value)) return 'crash';
  const programUuid = value.program_uuid;
  if (programUuid) {
    const uuid = canonicalUuid(pyStr(programUuid));
    // The UUIDField lookup raises Django's ValidationError for a malformed uuid; DRF reports it on the field.
    if (uuid === null) {
      errors.credential = [`\u201c${pyStr(programUuid)}\u201d is not a valid UUID.`];
      return undefined;
    }
    const program = data.catalog.programByUuid.get(uuid);
    if (program === undefined) errors.credential = { program_uuid: `No active ProgramCertificate exists for program [${pyStr(programUuid)}]` };
    return program === undefined ? undefined : { kind: KIND_PROGRAM, target: program };
  }
  const key = value.course_run_key;
  if (!key) {
    errors.credential = ['Credential identifier is missing.'];
    return undefined;
  }
  const run = data.catalog.runByKey.get(pyStr(key));
  if (run === undefined) {
    errors.credential = { course_run_key: `CourseCertificate failed to create because the CourseRun ${pyStr(key)} doesn't exist in the catalog` };
    return undefined;
  }
  // `mode` only matters when the run's CourseCertificate is first made; every catalog run has one,
  // so the credential carries the run's certificate type whatever mode the caller sends.
  return { kind: KIND_RUN, target: run };
}

/**
 * UserCredentialDateOverrideSerializer (fields ("date",), a DateTimeField), nested and optional: the microseconds, or
 * -1 for none. ProgramCertificateIssuer / AbstractCredentialIssuer.set_credential_date_override: a missing or null
 * override removes an existing one.
 */
function dateOverrideField(value: unknown, errors: FieldErrors): number | undefined {
  if (value === undefined || value === null) return -1;
  if (!isObject(value)) {
    errors.date_override = { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(value)}.`] };
    return undefined;
  }
  const ms = typeof value.date === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value.date) ? Date.parse(value.date) : NaN;
  if (value.date === undefined) errors.date_override = { date: ['This field is required.'] };
  else if (Number.isNaN(ms)) errors.date_override = { date: ['Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].'] };
  else return ms * 1000;
  return undefined;
}

function attributesField(value: unknown, errors: FieldErrors): Attribute[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    errors.attributes = { non_field_errors: [`Expected a list of items but got type "${pythonType(value)}".`] };
    return undefined;
  }
  const items: Attribute[] = [];
  const itemErrors = value.map((item) => {
    if (!isObject(item)) return { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(item)}.`] };
    const e: FieldErrors = {};
    const name = charField(item.name, e, 'name', 255);
    const v = charField(item.value, e, 'value', 255);
    if (name !== undefined && v !== undefined) items.push({ name, value: v });
    return e;
  });
  if (itemErrors.some((e) => Object.keys(e).length > 0)) {
    errors.attributes = itemErrors;
    return undefined;
  }
  if (new Set(items.map((a) => a.name)).size !== items.length) {
    errors.attributes = ['Attribute names cannot be duplicated.'];
    return undefined;
  }
  return items;
}

export function createCredentialRoute(ctx: ApiContext): SimRoute {
  const { data, access } = ctx;
  return {
    method: 'POST',
    path: '/api/v2/credentials/',
    doc: 'Award a credential: username + credential {program_uuid | course_run_key, mode}, optional status and attributes.',
    handle(req: SimRequest): SimResponse {
      const who = access.credentials(req, 'create');
      if (!('clientId' in who)) return who;
      const body = parseBody(req);
      if (!body.ok) return body.response;
      if (!isObject(body.value)) return jsonResponse(400, { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(body.value)}.`] });
      const b = body.value;
      const errors: FieldErrors = {};
      // UserCredential.username: CharField(max_length=255).
      const username = charField(b.username, errors, 'username', 255);
      const credential = credentialField(data, b.credential, errors);
      if (credential === 'crash') return serverErrorPage();
      let status = 0;
      if (b.status !== undefined) {
        status = typeof b.status === 'string' ? STATUSES.indexOf(b.status as (typeof STATUSES)[number]) : -1;
        if (status < 0) errors.status = [`"${pyStr(b.status)}" is not a valid choice.`];
      }
      const attributes = attributesField(b.attributes, errors);
      const dateOverride = dateOverrideField(b.date_override, errors);
      let lmsUserId: number | undefined;
      if (b.lms_user_id !== undefined && b.lms_user_id !== null) {
        lmsUserId = Number(b.lms_user_id);
        if (!Number.isInteger(lmsUserId) || lmsUserId < 1) lmsUserId = undefined;
      }
      if (Object.keys(errors).length > 0 || username === undefined || credential === undefined || dateOverride === undefined) return jsonResponse(400, errors);
      const user = ensureUser(data, username, lmsUserId);
      const out = issueCredential(data, { user, kind: credential.kind, target: credential.target, status, attributes: attributes ?? [], nowUs: clockUs(req.now) });
      data.credentials.dateOverride[out.row] = dateOverride;
      return jsonResponse(201, credentialJson(data, out.row, req.origin, ctx.shape));
    },
  };
}
