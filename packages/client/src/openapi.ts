import { jsonSchemaDocument, SCHEMA_VERSION } from '@imgbased/core';
import {
  BODY_LIMIT_BYTES,
  DEFAULT_SOCKET_PATH,
  httpStatusOf,
  JobRequestJsonSchema,
  JobViewJsonSchema,
  MUTATING_VERBS,
  READ_ROUTES,
} from './api.js';

type Json = Record<string, unknown>;

/**
 * The daemon's API as an OpenAPI 3.1 document (published as docs/openapi/imgbased-v1.openapi.json),
 * generated from the route table and from core's schemas, the same ones the CLI's `--json` follows.
 */
export function openApiDocument(): Json {
  const source = jsonSchemaDocument() as { envelope: Json; results: Record<string, Json> };
  const components: Record<string, Json> = {};
  const envelope = hoist(source.envelope, 'Envelope', components);
  components.Envelope = envelope;
  const resultName = (verb: string) => `Result_${verb.replace(/ --/g, '_').replace(/-/g, '_')}`;
  for (const [verb, schema] of Object.entries(source.results)) {
    components[resultName(verb)] = hoist(schema, resultName(verb), components);
  }
  components.JobRequest = strip(JobRequestJsonSchema);
  components.Job = JobViewJsonSchema as unknown as Json;

  const errorResponse = (description: string): Json => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Envelope' } } },
  });
  const success = (verb: string, data: Json): Json => ({
    description: `{schemaVersion, verb: '${verb}', data}: what \`imgbase ${verb} --json\` prints`,
    content: {
      'application/json': {
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['schemaVersion', 'verb', 'data'],
          properties: { schemaVersion: { const: SCHEMA_VERSION }, verb: { const: verb }, data },
        },
      },
    },
  });
  const common = {
    '400': errorResponse('E_USAGE (a malformed request), E_NAME_INVALID, E_SIZE_INVALID, E_IMAGE_INVALID'),
    '403': errorResponse('E_FORBIDDEN: the caller is neither root nor in the group imgbased'),
    '404': errorResponse('E_*_NOT_FOUND, E_NO_LAYOUT, E_NOT_ON_LAYER, or E_USAGE for an unknown route'),
    '500': errorResponse('E_COMMAND_FAILED, E_INTERNAL, …'),
  };

  const paths: Record<string, Json> = {};
  for (const route of READ_ROUTES) {
    const url = route.url.replace(/:(\w+)/g, '{$1}');
    paths[url] = {
      get: {
        operationId: operationId(route.verb),
        summary: route.summary,
        ...('param' in route
          ? { parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string', maxLength: 255 } }] }
          : {}),
        responses: {
          '200': success(route.verb, { $ref: `#/components/schemas/${resultName(route.verb)}` }),
          ...common,
          ...(route.verb.startsWith('boot ')
            ? {
                '409': errorResponse(
                  'E_NO_BOOTLOADER (the configured bootloader is not present), E_BOOT_CONFIG_INVALID',
                ),
              }
            : {}),
        },
      },
    };
  }
  const jobId = [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{16}$' } }];
  const job = success('job', { $ref: '#/components/schemas/Job' });
  paths['/v1/jobs'] = {
    post: {
      operationId: 'startJob',
      summary: `Start a changing verb (${MUTATING_VERBS.join(', ')}); answers at once with its id`,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/JobRequest' } } },
      },
      responses: {
        '202': success('job', {
          type: 'object',
          additionalProperties: false,
          required: ['jobId'],
          properties: { jobId: { type: 'string' } },
        }),
        '400': errorResponse('E_USAGE: bad JSON, unknown fields, wrong types'),
        '403': errorResponse(
          'E_NOT_ROOT: the caller (its peer credentials) or the daemon is not root; E_FORBIDDEN: not in the group imgbased; E_IMAGE_OUTSIDE_DIR: an image outside [daemon] image_dir',
        ),
        '413': errorResponse(`E_USAGE: a body over ${BODY_LIMIT_BYTES} bytes`),
        '415': errorResponse('E_USAGE: a body that is not application/json'),
        '429': errorResponse('E_BUSY: [daemon] max_jobs jobs (dry runs included) are running already'),
        '503': errorResponse('E_SHUTTING_DOWN: the daemon has begun to stop'),
      },
    },
  };
  paths['/v1/jobs/{id}'] = {
    get: {
      operationId: 'job',
      summary: 'A job: its state and, when finished, the envelope of its verb',
      parameters: jobId,
      responses: { '200': job, '404': errorResponse('E_USAGE: no such job') },
    },
    delete: {
      operationId: 'cancelJob',
      summary: 'Cancel a job: its AbortSignal fires, and it undoes what it made (ends `cancelled`, E_CANCELLED)',
      parameters: jobId,
      responses: {
        '202': job,
        '403': errorResponse('E_NOT_ROOT: only root may cancel'),
        '404': errorResponse('E_USAGE: no such job'),
      },
    },
  };
  paths['/v1/jobs/{id}/events'] = {
    get: {
      operationId: 'jobEvents',
      summary:
        'Server-Sent Events: every engine event of the job (event: step | command | command-done | undo | warning, data: the event as JSON), from its start, then `event: end` with the job',
      parameters: jobId,
      responses: {
        '200': { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '404': errorResponse('E_USAGE: no such job'),
        '429': errorResponse('E_BUSY: [daemon] max_event_streams streams are open already'),
      },
    },
  };
  paths['/v1/openapi.json'] = {
    get: {
      operationId: 'openapi',
      summary: 'This document',
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'imgbased daemon API',
      version: `${SCHEMA_VERSION}`,
      description: [
        `The local API of \`imgbased\`, served over the Unix socket ${DEFAULT_SOCKET_PATH} (HTTP/1.1).`,
        'Every answer is the envelope `imgbase --json` prints: {schemaVersion, verb, data} or {schemaVersion, verb, error}.',
        `Error codes map to statuses: ${statusTable()}.`,
      ].join(' '),
    },
    servers: [{ url: 'http://localhost', description: `the Unix socket ${DEFAULT_SOCKET_PATH}` }],
    paths,
    components: { schemas: components },
  };
}

function operationId(verb: string): string {
  return verb
    .replace(/ --/g, ' ')
    .split(/[\s-]+/)
    .map((word, i) => (i === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1)))
    .join('');
}

function statusTable(): string {
  const codes = [
    'E_USAGE',
    'E_NAME_INVALID',
    'E_NOT_ROOT',
    'E_BASE_NOT_FOUND',
    'E_BOOT_ENTRY_NOT_FOUND',
    'E_NO_LAYOUT',
    'E_LOCKED',
    'E_BASE_EXISTS',
    'E_CANCELLED',
    'E_NO_BOOTLOADER',
    'E_BOOT_UNSUPPORTED',
    'E_COMMAND_FAILED',
    'E_FORBIDDEN',
    'E_BUSY',
    'E_SHUTTING_DOWN',
  ];
  return codes.map((code) => `${code} ${httpStatusOf(code)}`).join(', ');
}

/** Moves a JSON Schema's `$defs` into the document's components, so that its refs resolve there. */
function hoist(schema: Json, name: string, components: Record<string, Json>): Json {
  const defs = (schema.$defs ?? {}) as Record<string, Json>;
  const names = new Map(Object.keys(defs).map((key) => [key, `${name}_${key.replace(/^_+/, '')}`]));
  const rewrite = (value: unknown, self: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => rewrite(v, self));
    if (value === null || typeof value !== 'object') return value;
    const out: Json = {};
    for (const [key, inner] of Object.entries(value as Json)) {
      if (key === '$schema' || key === '$defs') continue;
      if (key === '$ref' && typeof inner === 'string') {
        const target = inner === '#' ? self : names.get(inner.replace('#/$defs/', ''));
        out.$ref = `#/components/schemas/${target ?? inner}`;
      } else {
        out[key] = rewrite(inner, self);
      }
    }
    return out;
  };
  for (const [key, def] of Object.entries(defs)) components[names.get(key)!] = rewrite(def, names.get(key)!) as Json;
  return rewrite(schema, name) as Json;
}

/** Drops what is for the daemon's validator only (ajv's `discriminator`). */
function strip(schema: object): Json {
  const { discriminator: _discriminator, ...rest } = schema as Json;
  return JSON.parse(JSON.stringify(rest)) as Json;
}
