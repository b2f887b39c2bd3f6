import {
  type ChangeVerbName,
  type ErrorCode,
  type ReadVerbName,
  type SCHEMA_VERSION,
  type SerializedError,
  VERB_NAMES,
  VERBS,
  type VerbArgs,
  type VerbName,
  type VerbResult,
  verbArgsJsonSchema,
} from '@imgbased/core';

/**
 * The daemon's local API, described once: the daemon registers its routes from this table, the client
 * calls them from it, and the OpenAPI document (docs/openapi/) is generated from it and from core's
 * zod schemas. Every answer is the CLI's `--json` envelope of the same verb, byte for byte.
 */

export const API_PREFIX = '/v1';
/** The daemon's socket when nothing else is configured. */
export const DEFAULT_SOCKET_PATH = '/run/imgbased/imgbased.sock';
/** Largest request body the daemon reads (bigger ones get 413 E_USAGE). */
export const BODY_LIMIT_BYTES = 64 * 1024;

export type Verb = VerbName;

/** A reading verb of `imgbase`, as a GET route. `param` names the path parameter, when there is one. */
export interface ReadRoute {
  readonly verb: ReadVerbName;
  readonly url: string;
  readonly param?: 'name';
  readonly summary: string;
}

/** The GET routes, one per reading verb of core's verb table (its `http`), in the table's order. */
export const READ_ROUTES: readonly ReadRoute[] = VERB_NAMES.flatMap((verb): ReadRoute[] => {
  const { http, summary } = VERBS[verb];
  if (!http) return [];
  return [{ verb: verb as ReadVerbName, url: http.path, ...(http.param ? { param: http.param } : {}), summary }];
});

/**
 * Verbs of core's verb table that the API does not serve, each on purpose (a test makes sure every
 * verb is either served or listed here). None: every verb of the CLI is served.
 */
export const NOT_SERVED_YET: readonly Verb[] = [];

/** The changing verbs, run as jobs (through the operation lock, as in the CLI). */
export type MutatingVerb = ChangeVerbName;
export const MUTATING_VERBS: readonly MutatingVerb[] = VERB_NAMES.filter(
  (verb): verb is MutatingVerb => VERBS[verb].kind === 'change',
);

/** What a job of this verb ends with: the `data` of `imgbase VERB --json` (core's schema of the verb). */
export type JobResult<V extends MutatingVerb = MutatingVerb> = VerbResult<V>;

/** A job's `args`: the verb's arguments in core's table; optional when none of them is required. */
type JobArgsMember<V extends MutatingVerb> =
  Record<string, never> extends VerbArgs<V>
    ? { readonly args?: Readonly<VerbArgs<V>> }
    : { readonly args: Readonly<VerbArgs<V>> };

/** `POST /v1/jobs`: a changing verb and its arguments, named as core's verb table names them. */
export type JobRequest = { [V in MutatingVerb]: { readonly verb: V } & JobArgsMember<V> }[MutatingVerb] & {
  readonly dryRun?: boolean;
};

const nameText = { type: 'string', minLength: 1, maxLength: 255 } as const;

function jobBranch(verb: MutatingVerb) {
  const args = verbArgsJsonSchema(verb);
  return {
    type: 'object',
    additionalProperties: false,
    required: args.required.length > 0 ? ['verb', 'args'] : ['verb'],
    properties: {
      verb: { const: verb },
      dryRun: { type: 'boolean', description: 'record the commands that would change the system, change nothing' },
      args,
    },
  } as const;
}

/** JSON Schema of a JobRequest: unknown fields and wrong types are refused (400 E_USAGE). */
export const JobRequestJsonSchema = {
  type: 'object',
  required: ['verb'],
  discriminator: { propertyName: 'verb' },
  oneOf: MUTATING_VERBS.map(jobBranch),
} as const;

export const NameParamJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: nameText },
} as const;

export const JobIdParamJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } },
} as const;

export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** The envelope of every answer: the CLI's `--json` output. */
export type Envelope<T = unknown> =
  | { readonly schemaVersion: typeof SCHEMA_VERSION; readonly verb: string; readonly data: T }
  | { readonly schemaVersion: typeof SCHEMA_VERSION; readonly verb: string; readonly error: SerializedError };

/** A job, as `GET /v1/jobs/{id}` shows it (the `data` of an envelope whose verb is `job`). */
export interface JobView<V extends MutatingVerb = MutatingVerb> {
  readonly id: string;
  readonly verb: V;
  readonly args: Record<string, unknown>;
  readonly dryRun: boolean;
  readonly state: JobState;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  /** When finished: the envelope `imgbase VERB --json` would have printed. */
  readonly outcome: Envelope<JobResult<V>> | null;
}

export const JobViewJsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'verb', 'args', 'dryRun', 'state', 'createdAt', 'finishedAt', 'outcome'],
  properties: {
    id: { type: 'string' },
    verb: { enum: [...MUTATING_VERBS] },
    args: { type: 'object' },
    dryRun: { type: 'boolean' },
    state: { enum: ['running', 'succeeded', 'failed', 'cancelled'] },
    createdAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
    outcome: {
      description: 'when finished: the envelope `imgbase VERB --json` would have printed',
      oneOf: [{ type: 'null' }, { $ref: '#/components/schemas/Envelope' }],
    },
  },
} as const;

/** The verb named in envelopes of the job routes (and of requests that matched no route). */
export const JOB_VERB = 'job';
export const HTTP_VERB = 'http';

/** The HTTP status an error code maps to. */
export function httpStatusOf(code: ErrorCode | string): number {
  switch (code) {
    case 'E_USAGE':
    case 'E_NAME_INVALID':
    case 'E_SIZE_INVALID':
    case 'E_IMAGE_INVALID':
    case 'E_CONFIG_INVALID':
    case 'E_KERNEL_ARG_INVALID':
      return 400;
    case 'E_NOT_ROOT':
    case 'E_FORBIDDEN':
    case 'E_IMAGE_OUTSIDE_DIR':
      return 403;
    case 'E_BASE_NOT_FOUND':
    case 'E_LAYER_NOT_FOUND':
    case 'E_VOLUME_NOT_FOUND':
    case 'E_NO_LAYOUT':
    case 'E_NOT_ON_LAYER':
    case 'E_BOOT_ENTRY_NOT_FOUND':
      return 404;
    case 'E_LOCKED':
    case 'E_LAYOUT_EXISTS':
    case 'E_BASE_EXISTS':
    case 'E_BASE_IN_USE':
    case 'E_NO_THIN_POOL':
    case 'E_CANCELLED':
    // The host's boot setup does not allow it: none present, no one-shot, the last entry, a config
    // file imgbased cannot read safely.
    case 'E_NO_BOOTLOADER':
    case 'E_BOOT_UNSUPPORTED':
    case 'E_BOOT_LAST_ENTRY':
    case 'E_BOOT_CONFIG_INVALID':
      return 409;
    case 'E_BUSY':
      return 429;
    case 'E_SHUTTING_DOWN':
      return 503;
    default:
      return 500;
  }
}

/** An event of a job's stream (`GET /v1/jobs/{id}/events`, Server-Sent Events): engine events, then `end`. */
export type JobStreamEvent =
  | { readonly event: 'step' | 'command' | 'command-done' | 'undo' | 'warning'; readonly data: unknown }
  | { readonly event: 'end'; readonly data: JobView };
