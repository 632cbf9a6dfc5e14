/**
 * `certhub pushes rules|list|retry`: the tenant's push rules, its pushes (by state or rule) and a failed push queued
 * again. Rules are made and changed through the API, the web UI or certhub.yaml `push_rules:`; a running
 * `certhub serve` carries the pushes out.
 */
import type { Command } from 'commander';
import { AppError } from '../../errors.ts';
import { viewPushRule } from '../../outbound/push-rules.ts';
import { DEFAULT_TENANT_SLUG, PUSH_STATES, type Push, type PushState } from '../../store/index.ts';
import { withTenant } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';

interface PushesOptions extends GlobalOptions {
  tenant?: string;
  json?: boolean;
  state?: string;
  rule?: string;
  limit?: string;
}

function pushLine(p: Push): string {
  const remote = p.remote_id === null ? '' : `  at target: ${p.remote_id}`;
  const wanted = p.desired === 'revoked' && p.state !== 'revoked' ? '  (to be revoked)' : '';
  const error = p.last_error === null ? '' : `  ${p.last_error}`;
  return `${p.id}  ${p.state}  certificate ${p.certificate_id} -> ${p.target_key}${remote}${wanted}${error}`;
}

export function registerPushesCommand(program: Command, rt: CliRuntime): void {
  const pushes = program.command('pushes').description('pushes of certificates to Springest and Open edX: the rules, the pushes, retry a failed one');
  const tenantOption = ['--tenant <slug>', `the tenant (default: ${DEFAULT_TENANT_SLUG})`] as const;

  pushes
    .command('rules')
    .description("list the tenant's push rules")
    .option(...tenantOption)
    .option('--json', 'print a JSON array')
    .action(async (_o: PushesOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<PushesOptions>();
      await withTenant(opts, async (store, tenant) => {
        const rules = await Promise.all((await store.pushes.listRules(tenant.id)).map((r) => viewPushRule(store, r)));
        if (opts.json === true) {
          rt.out(JSON.stringify(rules.map(({ tenant_id: _t, ...r }) => r)));
          return;
        }
        if (rules.length === 0) {
          rt.out(`no push rules for tenant ${tenant.slug}`);
          return;
        }
        for (const r of rules) {
          const match = 'requirement_id' in r.match ? `requirement ${r.match.requirement_id}` : `achievement ${JSON.stringify(r.match.achievement)}`;
          const from = r.sources.length === 0 ? 'any source' : r.sources.join(',');
          rt.out(`${r.id}  ${r.name}  ${r.paused ? 'paused' : 'active'}  ${match} from ${from} -> ${r.target_source} as ${r.target_description}${r.origin === 'config' ? '  (certhub.yaml)' : ''}`);
        }
      });
    });

  pushes
    .command('list')
    .description('list pushes, newest first (exit 0; --state failed shows what needs a look)')
    .option('--state <state>', `only pushes in this state: ${PUSH_STATES.join(', ')}`)
    .option('--rule <name-or-id>', "only this rule's pushes")
    .option('--limit <n>', 'at most this many (1 to 500, default 100)')
    .option(...tenantOption)
    .option('--json', 'print a JSON array')
    .action(async (_o: PushesOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<PushesOptions>();
      if (opts.state !== undefined && !(PUSH_STATES as readonly string[]).includes(opts.state)) {
        throw new AppError('invalid_request', `--state must be one of ${PUSH_STATES.join(', ')}`);
      }
      const limit = opts.limit === undefined ? 100 : Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new AppError('invalid_request', '--limit must be a whole number from 1 to 500');
      await withTenant(opts, async (store, tenant) => {
        let ruleId: string | undefined;
        if (opts.rule !== undefined) {
          const rule = (await store.pushes.getRule(tenant.id, opts.rule)) ?? (await store.pushes.getRuleByName(tenant.id, opts.rule));
          if (rule === null) throw new AppError('not_found', `no push rule ${opts.rule}`);
          ruleId = rule.id;
        }
        const page = await store.pushes.listPushes(tenant.id, {
          limit,
          ...(opts.state === undefined ? {} : { state: opts.state as PushState }),
          ...(ruleId === undefined ? {} : { rule_id: ruleId }),
        });
        if (opts.json === true) rt.out(JSON.stringify(page.items.map(({ tenant_id: _t, attempt_started_at: _a, ...p }) => p)));
        else rt.out(page.items.length === 0 ? 'no pushes' : page.items.map(pushLine).join('\n'));
      });
    });

  pushes
    .command('retry')
    .description('try a push again now (a failed one starts over); a running certhub serve carries it out')
    .argument('<push-id>', 'the push id (from pushes list)')
    .option(...tenantOption)
    .option('--json', 'print the push as JSON')
    .action(async (id: string, _o: PushesOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<PushesOptions>();
      await withTenant(opts, async (store, tenant) => {
        const push = await store.pushes.retryPush(tenant.id, id);
        const { tenant_id: _t, attempt_started_at: _a, ...shown } = push;
        if (opts.json === true) rt.out(JSON.stringify(shown));
        else rt.out(`push ${push.id} is due again (${push.state}); a running certhub serve carries it out`);
      });
    });
}
