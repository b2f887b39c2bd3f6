import * as z from 'zod/mini';
import { EnvelopeSchema, SCHEMA_VERSION } from '../layout/schema.js';
import { VERB_NAMES, VERBS, type VerbName } from './table.js';

/** What each verb answers with `--json` (and the daemon with the same verb): the `data` member. */
export const VerbResultSchemas = Object.fromEntries(VERB_NAMES.map((verb) => [verb, VERBS[verb].result])) as {
  readonly [V in VerbName]: (typeof VERBS)[V]['result'];
};

/** The `data` of a verb's envelope, as a type (for front ends typed per verb, like the daemon's client). */
export type VerbResult<V extends VerbName> = z.infer<(typeof VERBS)[V]['result']>;

/** The published JSON Schema document of the envelope and of every verb's result (docs/schema/imgbased-v1.schema.json). */
export function jsonSchemaDocument(): Record<string, unknown> {
  const results: Record<string, unknown> = {};
  for (const [verb, schema] of Object.entries(VerbResultSchemas)) results[verb] = z.toJSONSchema(schema);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `imgbased/v${SCHEMA_VERSION}`,
    title: `imgbased JSON output, schema version ${SCHEMA_VERSION}`,
    description:
      'Every `imgbase --json` answer is one envelope: {schemaVersion, verb, data} on success, {schemaVersion, verb, error} on failure. `results` gives the data of each verb.',
    envelope: z.toJSONSchema(EnvelopeSchema),
    results,
  };
}

/** A JSON Schema object, without the `$schema` member (for embedding in a bigger document). */
export interface ArgsJsonSchema {
  readonly type: 'object';
  readonly additionalProperties: false;
  readonly required: readonly string[];
  readonly properties: Readonly<Record<string, Record<string, unknown>>>;
}

/** The JSON Schema of a verb's arguments: what the daemon validates a request's `args` with. */
export function verbArgsJsonSchema(verb: VerbName): ArgsJsonSchema {
  const generated = z.toJSONSchema(VERBS[verb].args) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const properties: Record<string, Record<string, unknown>> = {};
  // `type` first, as people write schemas (and as the published document has them).
  for (const [name, schema] of Object.entries(generated.properties ?? {}))
    properties[name] = { type: schema.type, ...schema };
  return { type: 'object', additionalProperties: false, required: generated.required ?? [], properties };
}
