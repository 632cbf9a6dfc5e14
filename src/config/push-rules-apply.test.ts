/** certhub.yaml `push_rules:` applied to the store on start: created, updated in place, paused when dropped, refused with the reason. */
import { expect, it } from 'vitest';
import { describeEachDialect } from '../store/dialects.testkit.ts';
import { expectAppError } from '../errors.testkit.ts';
import { applyConfiguredPushRules, applyConfiguredSources } from './apply.ts';
import type { Config } from './index.ts';
import { parseSource } from '../contract/harness.testkit.ts';
import type { PushRuleConfig } from './schema.ts';

const SOURCES = [
  parseSource({ id: 'fc', provider: 'frontcore', base_url: 'https://api.frontcore.example', api_key: 'k1' }),
  parseSource({ id: 'sp', provider: 'springest', base_url: 'https://api.springest.example', api_key: 'k2' }),
];

const rule = (over: Partial<PushRuleConfig> = {}): PushRuleConfig => ({
  name: 'Safety to Springest',
  tenant: 'default',
  paused: false,
  match: { achievement: { source: 'fc', external_id: '44724' } },
  sources: ['fc'],
  target_source: 'sp',
  target: { certification_id: 42 },
  usernames: {},
  ...over,
});

describeEachDialect('push rules from certhub.yaml', (h) => {
  it('creates, updates in place by name, pauses a rule the file dropped, and refuses one it cannot carry out', async () => {
    const store = await h.open();
    await applyConfiguredSources(store, { sources: SOURCES } as Config);
    const tenant = (await store.tenants.getTenantBySlug('default'))!;
    const at = new Date('2026-06-11T10:00:00Z');

    expect(await applyConfiguredPushRules(store, { pushRules: [rule()] }, { now: at })).toEqual({ created: ['Safety to Springest'], updated: [], paused: [] });
    const [created] = await store.pushes.listRules(tenant.id);
    expect(created).toMatchObject({ name: 'Safety to Springest', origin: 'config', target_key: 'certification:42', paused: false, target: { certification_id: '42', verify_within_days: 30 } });

    // The same file again changes nothing; a changed target updates the same rule.
    expect(await applyConfiguredPushRules(store, { pushRules: [rule()] }, { now: at })).toEqual({ created: [], updated: [], paused: [] });
    expect(await applyConfiguredPushRules(store, { pushRules: [rule({ target: { certification_id: 43 } })] }, { now: at })).toEqual({ created: [], updated: ['Safety to Springest'], paused: [] });
    const [updated] = await store.pushes.listRules(tenant.id);
    expect(updated).toMatchObject({ id: created!.id, target_key: 'certification:43' });

    // A rule made through the API is left alone; the file's dropped rule is paused, not deleted.
    await store.pushes.createRule(tenant.id, { name: 'By hand', match: { achievement: { external_id: '1' } }, target_source_id: updated!.target_source_id, target: { certification_id: '1' }, target_key: 'certification:1' });
    expect(await applyConfiguredPushRules(store, { pushRules: [] }, { now: at })).toEqual({ created: [], updated: [], paused: ['Safety to Springest'] });
    expect((await store.pushes.listRules(tenant.id)).map((r) => [r.name, r.paused])).toEqual([
      ['By hand', false],
      ['Safety to Springest', true],
    ]);

    await expectAppError(applyConfiguredPushRules(store, { pushRules: [rule({ name: 'bad', target_source: 'fc' })] }), 'invalid_config', /push_rules\[0\]: push rule "bad": frontcore .*takes no pushed certificates/);
    await expectAppError(applyConfiguredPushRules(store, { pushRules: [rule({ name: 'bad', target: {} })] }), 'invalid_config', /target\.certification_id/);
    await expectAppError(applyConfiguredPushRules(store, { pushRules: [rule({ name: 'bad', tenant: 'nobody' })] }), 'invalid_config', /no tenant nobody/);
    expect(await store.pushes.listRules(tenant.id)).toHaveLength(2);
  });
});
