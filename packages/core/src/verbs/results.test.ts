import { describe, expect, it } from 'vitest';
import { jsonSchemaDocument, VerbResultSchemas, verbArgsJsonSchema } from './results.js';
import { VERB_NAMES } from './table.js';

describe('the JSON schema', () => {
  it('is published as docs/schema/imgbased-v1.schema.json (regenerate with `vitest -u`)', async () => {
    await expect(`${JSON.stringify(jsonSchemaDocument(), null, 2)}\n`).toMatchFileSnapshot(
      '../../../../docs/schema/imgbased-v1.schema.json',
    );
  });

  it('has the result of every verb of the table, and nothing else', () => {
    expect(Object.keys(VerbResultSchemas)).toEqual(VERB_NAMES);
  });
});

describe('the JSON schema of a verb’s arguments', () => {
  it('keeps the bounds of the zod schema and refuses unknown members', () => {
    expect(verbArgsJsonSchema('boot --edit-kernel-args')).toEqual({
      type: 'object',
      additionalProperties: false,
      required: ['layer'],
      properties: {
        layer: { type: 'string', minLength: 1, maxLength: 255 },
        append: {
          type: 'array',
          maxItems: 64,
          items: { type: 'string', minLength: 1, maxLength: 1024 },
          description: 'arguments to add (key=value replaces the key’s value)',
        },
        delete: {
          type: 'array',
          maxItems: 64,
          items: { type: 'string', minLength: 1, maxLength: 1024 },
          description: 'arguments to take out (a bare key takes every value)',
        },
      },
    });
    expect(verbArgsJsonSchema('layer --add')).toMatchObject({ required: [], additionalProperties: false });
    expect(verbArgsJsonSchema('layout')).toEqual({
      type: 'object',
      additionalProperties: false,
      required: [],
      properties: {},
    });
  });
});
