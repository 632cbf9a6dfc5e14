import type { Command } from 'commander';
import type { AchievementMatcher } from '../../domain/requirement.ts';
import { AppError } from '../../errors.ts';
import { createSourceConnector } from '../../providers/connector.ts';
import { liveStatus, type LiveEntry } from '../../compliance/live.ts';
import { personQuerySchema, statusScopeShape, type PersonQuery } from '../../compliance/person-query.ts';
import { checkPeople, findRequirement, type StatusAnswer } from '../../compliance/status-check.ts';
import { DEFAULT_TENANT_SLUG, type Store } from '../../store/index.ts';
import { applyConfiguredSources } from '../../config/apply.ts';
import { loadCliConfig, openStoreFromConfig } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';

interface StatusOptions extends GlobalOptions {
  email?: string;
  nin?: string;
  dob?: string;
  name?: string;
  source?: string;
  userId?: string;
  achievement?: string[];
  requirement?: string;
  asOf?: string;
  tenant?: string;
  live?: boolean;
  json?: boolean;
}

const FLAG_OF: Record<string, string> = {
  email: '--email',
  national_id: '--nin',
  date_of_birth: '--dob',
  name: '--name',
  provider_user: '--source/--user-id',
  source: '--source',
  user_id: '--user-id',
};

const ONE_IDENTIFICATION = 'give exactly one of --email, --nin, --dob with --name, --source with --user-id';

/** The person query the flags name, or AppError('invalid_request') naming the flag. */
export function queryFromFlags(opts: StatusOptions): PersonQuery {
  const given = [opts.email, opts.nin, opts.dob ?? opts.name, opts.source ?? opts.userId].filter((v) => v !== undefined).length;
  if (given !== 1) throw new AppError('invalid_request', ONE_IDENTIFICATION);
  if ((opts.dob === undefined) !== (opts.name === undefined)) throw new AppError('invalid_request', '--dob and --name go together');
  if ((opts.source === undefined) !== (opts.userId === undefined)) throw new AppError('invalid_request', '--source and --user-id go together');
  const parsed = personQuerySchema.safeParse({
    email: opts.email,
    national_id: opts.nin,
    date_of_birth: opts.dob,
    name: opts.name,
    provider_user: opts.source === undefined ? undefined : { source: opts.source, user_id: opts.userId },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).at(-1);
    throw new AppError('invalid_request', `${field === undefined ? '' : `${FLAG_OF[field] ?? field}: `}${issue.message}`);
  }
  return parsed.data;
}

/** --achievement X: the achievement coded X when the tenant's catalog has one, else the one with external id X. */
async function matcherFor(store: Store, tenantId: string, codeOrId: string): Promise<AchievementMatcher> {
  const coded = await store.achievements.findByCode(tenantId, codeOrId);
  return coded.length > 0 ? { code: codeOrId } : { external_id: codeOrId };
}

function describeWho(q: PersonQuery): string {
  if (q.email !== undefined) return `--email ${q.email}`;
  // Never echo a national id.
  if (q.national_id !== undefined) return 'the national id given';
  if (q.provider_user !== undefined) return `user ${q.provider_user.user_id} at ${q.provider_user.source}`;
  return `${q.name ?? ''} born ${q.date_of_birth ?? ''}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}

function render(answer: StatusAnswer & { live?: LiveEntry[] }): string {
  const lines: string[] = [`person ${answer.person_id ?? '-'} (by ${answer.identified_by}), as of ${answer.as_of}`];
  if (answer.requirement) {
    const r = answer.requirement;
    lines.push(`requirement ${r.name}: ${r.state}${r.valid_until === null ? '' : ` (until ${r.valid_until})`}`);
  }
  const rows = [['ACHIEVEMENT', 'STANDING', 'VALID UNTIL', 'CERTIFICATE']];
  for (const a of answer.achievements) {
    const ach = a.achievement;
    const name = [ach.source, ach.type, ach.code ?? ach.external_id].filter((p) => p !== undefined && p !== null).join(' ');
    rows.push([`${name}${ach.title ? ` (${ach.title})` : ''}`, a.standing, a.valid_until ?? '-', a.certificate === null ? '-' : `${a.certificate.id} (${a.certificate.source} ${a.certificate.external_id})`]);
  }
  lines.push(rows.length === 1 ? 'no certificates' : table(rows));
  for (const l of answer.live ?? []) {
    lines.push(`live ${l.source}: ${l.ok ? JSON.stringify(l.answer) : `failed: ${l.error?.message ?? 'unknown error'}`}`);
  }
  return lines.join('\n');
}

export function registerStatusCommand(program: Command, rt: CliRuntime): void {
  program
    .command('status')
    .description('does this person hold a valid certificate? (the API\'s POST /v1/status)')
    .option('--email <email>', 'identify the person by email')
    .option('--nin <number>', 'by national identification number (never printed)')
    .option('--dob <YYYY-MM-DD>', 'by date of birth, with --name')
    .option('--name <full name>', 'full name, with --dob')
    .option('--source <id>', 'by user id at this source, with --user-id')
    .option('--user-id <id>', 'the user id (Open edX: username) at --source')
    .option('--achievement <code-or-id>', 'only this achievement (its code, else its external id); repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--requirement <name-or-id>', 'against this requirement')
    .option('--as-of <instant>', 'answer with what certhub knew then (ISO-8601, e.g. 2025-01-31T12:00:00Z)')
    .option('--tenant <slug>', `the tenant (default: ${DEFAULT_TENANT_SLUG})`)
    .option('--live', "also ask the providers' own status endpoints (FrontCore, Open edX sources of the configuration)")
    .option('--json', 'print the API answer as JSON')
    .addHelpText(
      'after',
      `
Exactly one identification: --email, --nin, --dob with --name, or --source with --user-id (else a one-line error, exit 2).
Without --achievement or --requirement, every achievement the person has certificates for is listed.
Standings: valid, expiring (within 30 days of its end; a requirement's own warning window), expired, revoked, missing.
Exit status: 0 when the person is found (also when certificates are missing or expired); 1 when nobody matches, or
several people share the name and birth date (nothing is answered then; --json still prints the answer); 2 for bad usage
or an unknown requirement or tenant.`,
    )
    .action(async (_o: StatusOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<StatusOptions>();
      const query = queryFromFlags(opts);
      if (opts.achievement !== undefined && opts.requirement !== undefined) throw new AppError('invalid_request', 'give --achievement or --requirement, not both');
      let asOf: string | undefined;
      if (opts.asOf !== undefined) {
        const parsed = statusScopeShape.as_of.safeParse(opts.asOf);
        if (!parsed.success) throw new AppError('invalid_request', `--as-of: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        asOf = parsed.data;
      }
      const config = loadCliConfig(opts);
      const store = await openStoreFromConfig(config);
      let answer: StatusAnswer & { live?: LiveEntry[] };
      try {
        await store.migrate();
        const slug = opts.tenant ?? DEFAULT_TENANT_SLUG;
        if (opts.live === true) await applyConfiguredSources(store, config);
        const tenant = await store.tenants.getTenantBySlug(slug);
        if (tenant === null) throw new AppError('invalid_request', `unknown tenant "${slug}"`);
        const achievements = opts.achievement === undefined ? undefined : await Promise.all(opts.achievement.map((a) => matcherFor(store, tenant.id, a)));
        let requirementMatchers: AchievementMatcher[] | undefined;
        if (opts.requirement !== undefined) {
          requirementMatchers = await findRequirement(store, tenant.id, opts.requirement).then(
            (r) => r.rule.any_of,
            (err: unknown) => {
              throw err instanceof AppError && err.code === 'not_found' ? new AppError('invalid_request', `unknown requirement "${opts.requirement}"`) : err;
            },
          );
        }
        const checked = await checkPeople(store, tenant.id, [query], { achievements, requirement: opts.requirement, as_of: asOf, where: () => 'person' });
        const one = checked[0]!;
        if (!one.result.ok) throw new AppError('invalid_request', one.result.error.message.replace('person.provider_user.source', '--source'));
        answer = one.result.answer;
        if (opts.live === true) {
          const connector = createSourceConnector({ store, outbound: config.outbound });
          const live = await liveStatus({ store, connector, tenantId: tenant.id, people: checked, matchers: requirementMatchers ?? achievements ?? null });
          answer.live = live[0] ?? [];
        }
      } finally {
        await store.close();
      }
      if (opts.json === true) rt.out(JSON.stringify(answer, null, 2));
      else if (answer.found && !answer.ambiguous) rt.out(render(answer));
      if (!answer.found) throw new AppError('not_found', `no person matches ${describeWho(query)}`);
      if (answer.ambiguous) throw new AppError('not_found', `${answer.person_ids.length} people match ${describeWho(query)} (${answer.person_ids.join(', ')}); ask by email or user id`);
    });
}
