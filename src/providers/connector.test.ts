/**
 * The connector opens a stored source as a session: its provider, its settings as the provider parsed them, the
 * credentials to scrub, and an HTTP client. A source it cannot open is refused before anything is asked of anyone.
 */
import { expect, it } from 'vitest';
import { describeEachDialect } from '../store/dialects.testkit.ts';
import { createFakeHttp, createListProvider, setupSource } from '../sync/sync.testkit.ts';
import { createSourceConnector } from './connector.ts';

describeEachDialect('source connector', (h) => {
  it('opens a stored source: the provider, its parsed settings, its secrets and a client', async () => {
    const store = await h.open();
    const { source } = await setupSource(store, { api_key: 'k-opened-123456' });
    const provider = createListProvider({ items: () => [], pageSize: 10 });
    const http = createFakeHttp().client;
    const connector = createSourceConnector({ store, findProvider: () => provider, createHttp: () => http });
    const session = await connector.open(source);
    expect(session.provider).toBe(provider);
    expect(session.http).toBe(http);
    expect(session.config).toMatchObject({ id: 'fake-main', provider: 'frontcore', api_key: 'k-opened-123456' });
    expect(session.secrets).toEqual(['k-opened-123456']);
    await session.close();
  });

  it('refuses a source whose stored settings the provider rejects, and one whose provider this build lacks', async () => {
    const store = await h.open();
    const { source } = await setupSource(store);
    const provider = createListProvider({ items: () => [], pageSize: 10 });
    let created = 0;
    const createHttp = () => {
      created += 1;
      return createFakeHttp().client;
    };
    const strict = { ...provider, configSchema: provider.configSchema.refine(() => false, 'never valid') };
    await expect(createSourceConnector({ store, findProvider: () => strict, createHttp }).open(source)).rejects.toMatchObject({
      code: 'invalid_config',
      message: 'source fake-main: (source): never valid',
    });
    await expect(createSourceConnector({ store, findProvider: () => null, createHttp }).open(source)).rejects.toMatchObject({
      code: 'invalid_config',
      message: 'no connector for provider frontcore in this build of certhub',
    });
    expect(created).toBe(0);
  });
});
