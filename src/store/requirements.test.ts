import { expect, it } from 'vitest';
import { describeEachDialect } from './dialects.testkit.ts';

describeEachDialect('requirements', (h) => {
  it('creates, lists by name, updates and deletes, per tenant, refusing duplicate names', async () => {
    const store = await h.open();
    const a = (await store.tenants.getTenantBySlug('default'))!;
    const b = await store.tenants.createTenant({ slug: 'other', name: 'Other' });
    const rule = { any_of: [{ code: 'SAFE-101' }], valid_months_without_end: 24, warn_days: 30 };
    const safety = await store.requirements.createRequirement(a.id, { name: 'Safety', rule });
    await store.requirements.createRequirement(a.id, { name: 'First aid', rule: { ...rule, any_of: [{ code: 'FA-1' }] } });
    await expect(store.requirements.createRequirement(a.id, { name: 'Safety', rule })).rejects.toMatchObject({ code: 'conflict' });
    // Another tenant may use the same name.
    await store.requirements.createRequirement(b.id, { name: 'Safety', rule });

    expect((await store.requirements.listRequirements(a.id)).map((r) => r.name)).toEqual(['First aid', 'Safety']);
    expect(await store.requirements.getRequirement(b.id, safety.id)).toBeNull();

    const updated = await store.requirements.updateRequirement(a.id, safety.id, { rule: { ...rule, warn_days: 60 } });
    expect(updated).toMatchObject({ name: 'Safety', rule: { warn_days: 60, valid_months_without_end: 24 } });
    await expect(store.requirements.updateRequirement(b.id, safety.id, { name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.requirements.updateRequirement(a.id, safety.id, { name: 'First aid' })).rejects.toMatchObject({ code: 'conflict' });

    await expect(store.requirements.deleteRequirement(b.id, safety.id)).rejects.toMatchObject({ code: 'not_found' });
    await store.requirements.deleteRequirement(a.id, safety.id);
    expect((await store.requirements.listRequirements(a.id)).map((r) => r.name)).toEqual(['First aid']);
  });
});
