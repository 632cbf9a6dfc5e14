import type { Command } from 'commander';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { API_KEY_ROLES, DEFAULT_TENANT_SLUG, type ApiKey } from '../../store/index.ts';
import { withTenant } from '../context.ts';
import type { CliRuntime, GlobalOptions } from '../runtime.ts';

interface KeysOptions extends GlobalOptions {
  tenant?: string;
  json?: boolean;
  name?: string;
  role?: string;
}

const createFlags = z.object({
  name: z.string({ error: '--name is required' }).trim().min(1, '--name must not be empty').max(200, '--name is too long'),
  role: z.enum(API_KEY_ROLES, { error: '--role must be read or admin' }),
});

function keyLine(key: ApiKey): string {
  const state = key.revoked_at === null ? 'active' : `revoked ${key.revoked_at}`;
  return `${key.id}  ${key.prefix}…  ${key.role.padEnd(5)}  ${key.name}  (created ${key.created_at}, last used ${key.last_used_at ?? 'never'}, ${state})`;
}

export function registerKeysCommand(program: Command, rt: CliRuntime): void {
  const keys = program.command('keys').description('API keys: create (printed once), list, revoke');
  const tenantOption = ['--tenant <slug>', `the tenant the key belongs to (default: ${DEFAULT_TENANT_SLUG})`] as const;

  keys
    .command('create')
    .description('create an API key and print it once (only its hash is stored)')
    .option('--name <name>', 'what the key is for')
    .option('--role <role>', 'read (reads and status checks) or admin (everything)')
    .option(...tenantOption)
    .option('--json', 'print {"id", "key", "name", "role", "tenant", ...}')
    .action(async (_o: KeysOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<KeysOptions>();
      const parsed = createFlags.safeParse({ name: opts.name, role: opts.role });
      if (!parsed.success) throw new AppError('invalid_request', parsed.error.issues.map((i) => i.message).join('; '));
      await withTenant(
        opts,
        async (store, tenant) => {
          const { secret, tenant_id: _t, ...key } = await store.apiKeys.createKey(tenant.id, parsed.data);
          if (opts.json === true) {
            rt.out(JSON.stringify({ ...key, key: secret, tenant: tenant.slug }));
            return;
          }
          rt.out(secret);
          rt.err(`created ${key.role} key "${key.name}" (id ${key.id}) for tenant ${tenant.slug}; it is shown only this once`);
        },
        true,
      );
    });

  keys
    .command('list')
    .description("list a tenant's API keys (never the keys themselves)")
    .option(...tenantOption)
    .option('--json', 'print a JSON array')
    .action(async (_o: KeysOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<KeysOptions>();
      await withTenant(opts, async (store, tenant) => {
        const list = await store.apiKeys.listKeys(tenant.id);
        if (opts.json === true) rt.out(JSON.stringify(list.map(({ tenant_id: _t, ...k }) => k)));
        else rt.out(list.length === 0 ? `no API keys for tenant ${tenant.slug}` : list.map(keyLine).join('\n'));
      });
    });

  keys
    .command('revoke')
    .description('revoke an API key by id (effective at once)')
    .argument('<id>', 'the key id (from keys list)')
    .option(...tenantOption)
    .option('--json', 'print the revoked key as JSON')
    .action(async (id: string, _o: KeysOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<KeysOptions>();
      await withTenant(opts, async (store, tenant) => {
        const { tenant_id: _t, ...key } = await store.apiKeys.revokeKey(tenant.id, id);
        rt.out(opts.json === true ? JSON.stringify(key) : `revoked ${key.id} (${key.name})`);
      });
    });
}
