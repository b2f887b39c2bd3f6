import type { ErrorCode, SCHEMA_VERSION, SerializedError, VerbResult, VerbResultSchemas } from '@imgbased/core';

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

export type Verb = keyof typeof VerbResultSchemas;

/** A reading verb of `imgbase`, as a GET route. `param` names the path parameter, when there is one. */
export interface ReadRoute {
  readonly verb: Verb;
  readonly url: string;
  readonly param?: 'name';
  readonly summary: string;
}

export const READ_ROUTES = [
  { verb: 'layout', url: '/v1/layout', summary: 'The whole layout: pool, bases and their layers (imgbase layout)' },
  { verb: 'layout --bases', url: '/v1/layout/bases', summary: 'Names of the bases (imgbase layout --bases)' },
  { verb: 'layout --layers', url: '/v1/layout/layers', summary: 'Names of the layers (imgbase layout --layers)' },
  {
    verb: 'layout --free-space',
    url: '/v1/layout/free-space',
    summary: 'Free space in the thin pool, in bytes (imgbase layout --free-space)',
  },
  { verb: 'base --latest', url: '/v1/bases/latest', summary: 'The newest base (imgbase base --latest)' },
  {
    verb: 'base --of-layer',
    url: '/v1/layers/:name/base',
    param: 'name',
    summary: 'The base of a layer (imgbase base --of-layer NAME)',
  },
  { verb: 'layer --latest', url: '/v1/layers/latest', summary: 'The newest layer (imgbase layer --latest)' },
  { verb: 'layer --current', url: '/v1/layers/current', summary: 'The layer mounted at / (imgbase layer --current)' },
  {
    verb: 'layer --volume-path',
    url: '/v1/volumes/:name/path',
    param: 'name',
    summary: 'The device path of a base or layer (imgbase layer --volume-path NAME)',
  },
  { verb: 'w', url: '/v1/w', summary: 'Which layer is running (imgbase w)' },
  {
    verb: 'boot --list',
    url: '/v1/boot/entries',
    summary: 'The boot entries, the default and the one-shot (imgbase boot --list)',
  },
  {
    verb: 'boot --get-default',
    url: '/v1/boot/default',
    summary: 'The boot entry and layer booted by default (imgbase boot --get-default)',
  },
  {
    verb: 'boot --kernel-args',
    url: '/v1/layers/:name/kernel-args',
    param: 'name',
    summary: 'The kernel arguments of a layer’s boot entry (imgbase boot --kernel-args NAME)',
  },
] as const satisfies readonly ReadRoute[];

/**
 * Verbs of core's `VerbResultSchemas` that the API does not serve, each on purpose (a test makes sure
 * every verb is either served or listed here). None: every verb of the CLI is served.
 */
export const NOT_SERVED_YET: readonly Verb[] = [];

/** The changing verbs, run as jobs (through the operation lock, as in the CLI). */
export const MUTATING_VERBS = [
  'layout --init',
  'base --add',
  'base --remove',
  'layer --add',
  'boot --set-default',
  'boot --next',
  'boot --edit-kernel-args',
] as const;
export type MutatingVerb = (typeof MUTATING_VERBS)[number];

/** What a job of this verb ends with: the `data` of `imgbase VERB --json` (core's schema of the verb). */
export type JobResult<V extends MutatingVerb = MutatingVerb> = VerbResult<V>;

/** `POST /v1/jobs`: a changing verb and its arguments, named as the CLI names them. */
export type JobRequest = (
  | { readonly verb: 'layout --init'; readonly args: { readonly nvr: string; readonly from?: string } }
  | {
      readonly verb: 'base --add';
      readonly args: { readonly nvr: string; readonly size: string; readonly image?: string };
    }
  | { readonly verb: 'base --remove'; readonly args: { readonly name: string } }
  | { readonly verb: 'layer --add'; readonly args?: { readonly from?: string } }
  | { readonly verb: 'boot --set-default'; readonly args: { readonly layer: string } }
  | { readonly verb: 'boot --next'; readonly args: { readonly layer: string } }
  | {
      readonly verb: 'boot --edit-kernel-args';
      readonly args: {
        readonly layer: string;
        readonly append?: readonly string[];
        readonly delete?: readonly string[];
      };
    }
) & { readonly dryRun?: boolean };

const nameText = { type: 'string', minLength: 1, maxLength: 255 } as const;
/** Kernel arguments, as the CLI's repeated --append/--delete take them (the engine checks each one). */
const kernelArgs = {
  type: 'array',
  maxItems: 64,
  items: { type: 'string', minLength: 1, maxLength: 1024 },
} as const;

function jobBranch(verb: MutatingVerb, args: Record<string, unknown>, required: string[], argsRequired: boolean) {
  return {
    type: 'object',
    additionalProperties: false,
    required: argsRequired ? ['verb', 'args'] : ['verb'],
    properties: {
      verb: { const: verb },
      dryRun: { type: 'boolean', description: 'record the commands that would change the system, change nothing' },
      args: { type: 'object', additionalProperties: false, required, properties: args },
    },
  };
}

/** JSON Schema of a JobRequest: unknown fields and wrong types are refused (400 E_USAGE). */
export const JobRequestJsonSchema = {
  type: 'object',
  required: ['verb'],
  discriminator: { propertyName: 'verb' },
  oneOf: [
    jobBranch('layout --init', { nvr: nameText, from: { ...nameText, maxLength: 4096 } }, ['nvr'], true),
    jobBranch(
      'base --add',
      {
        nvr: nameText,
        size: { type: 'string', minLength: 1, maxLength: 32, description: 'e.g. 1G (MiB without a unit)' },
        image: { type: 'string', minLength: 1, maxLength: 4096, description: 'an ext4 image on the host' },
      },
      ['nvr', 'size'],
      true,
    ),
    jobBranch('base --remove', { name: nameText }, ['name'], true),
    jobBranch('layer --add', { from: nameText }, [], false),
    jobBranch('boot --set-default', { layer: nameText }, ['layer'], true),
    jobBranch('boot --next', { layer: nameText }, ['layer'], true),
    jobBranch(
      'boot --edit-kernel-args',
      {
        layer: nameText,
        append: { ...kernelArgs, description: 'arguments to add (key=value replaces the key’s value)' },
        delete: { ...kernelArgs, description: 'arguments to take out (a bare key takes every value)' },
      },
      ['layer'],
      true,
    ),
  ],
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
    default:
      return 500;
  }
}

/** An event of a job's stream (`GET /v1/jobs/{id}/events`, Server-Sent Events): engine events, then `end`. */
export type JobStreamEvent =
  | { readonly event: 'step' | 'command' | 'command-done' | 'undo' | 'warning'; readonly data: unknown }
  | { readonly event: 'end'; readonly data: JobView };
