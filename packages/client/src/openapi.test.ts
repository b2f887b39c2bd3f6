import { VERB_NAMES } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { MUTATING_VERBS, NOT_SERVED_YET, READ_ROUTES } from './api.js';
import { openApiDocument } from './openapi.js';

describe('the OpenAPI document', () => {
  it('is published as docs/openapi/imgbased-v1.openapi.json (regenerate with `vitest -u`)', async () => {
    await expect(`${JSON.stringify(openApiDocument(), null, 2)}\n`).toMatchFileSnapshot(
      '../../../docs/openapi/imgbased-v1.openapi.json',
    );
  });

  it('has a route for every read verb of the CLI, and every $ref resolves', () => {
    const doc = openApiDocument() as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    // Every verb of core's table is served (a GET route or a job), or consciously listed as not served yet.
    const served = [...READ_ROUTES.map((r) => r.verb), ...MUTATING_VERBS, ...NOT_SERVED_YET];
    expect(new Set(served).size).toBe(served.length);
    for (const verb of VERB_NAMES) expect(served, verb).toContain(verb);
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
      expect(doc.components.schemas[name], ref).toBeDefined();
    }
  });
});
