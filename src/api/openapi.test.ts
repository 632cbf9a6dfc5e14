import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, listRoutes, type TestHub } from './app.testkit.ts';

describe('the OpenAPI document', () => {
  let hub: TestHub;
  let doc: { paths: Record<string, Record<string, { operationId: string }>> };
  beforeAll(async () => {
    hub = await createTestHub();
    doc = (await hub.call('GET', '/openapi.json')).json();
  });
  afterAll(() => hub.close());

  it('validates as OpenAPI 3.1', async () => {
    // validate() dereferences in place; give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('lists every route the app serves, by its operationId', () => {
    const routes = listRoutes(hub.store);
    const listed = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId)));
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(listed, route.operationId).toContain(route.operationId);
  });

  it('marks every /v1 operation as needing an API key and documents its error shape', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops) as unknown as Array<{ security: unknown[]; responses: Record<string, unknown> }>) {
        if (path.startsWith('/v1/')) expect(op.security, path).toEqual([{ apiKey: [] }]);
        expect(op.responses['400'], path).toBeDefined();
      }
    }
  });
});
