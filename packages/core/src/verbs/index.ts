export type { VerbEngine } from './engine-port.js';
export {
  type ArgsJsonSchema,
  jsonSchemaDocument,
  type VerbResult,
  VerbResultSchemas,
  verbArgsJsonSchema,
} from './results.js';
export {
  type ChangeVerbName,
  type ReadVerbName,
  runVerb,
  VERB_NAMES,
  VERBS,
  type VerbArgs,
  type VerbName,
} from './table.js';
export type { TrialVerbEngine } from './trial-table.js';
export { defineVerb, type VerbDefinition, type VerbKind, type VerbRoute } from './verb.js';
