import {
  BODY_LIMIT_BYTES,
  type Envelope,
  HTTP_VERB,
  httpStatusOf,
  JOB_VERB,
  JobIdParamJsonSchema,
  type JobRequest,
  JobRequestJsonSchema,
  NameParamJsonSchema,
  openApiDocument,
  READ_ROUTES,
} from '@imgbased/client';
import { type ImageEngine, ImgbasedError, SCHEMA_VERSION, toImgbasedError, UsageError } from '@imgbased/core';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ReadBatcher } from './coalesce.js';
import type { JobManager } from './jobs.js';
import type { Logger } from './log.js';
import { readVerb } from './verbs.js';

export interface ServerOptions {
  /** The engine (real, or the dry-run one). */
  readonly engine: (dryRun: boolean) => ImageEngine;
  readonly jobs: JobManager;
  readonly log: Logger;
  readonly bodyLimit?: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The verb named in the envelope of this route's answers (errors included). */
    verb?: string;
  }
}

/**
 * The HTTP API: the route table of @imgbased/client, each read route one engine call, changes as jobs.
 * Every body is the envelope `imgbase --json` prints, with the same formatting, so that a daemon answer
 * and the CLI's output of the same verb are the same text. Everything that goes wrong, malformed
 * requests included, is answered with a typed error envelope and a 4xx/5xx status; nothing a client
 * sends stops the server.
 */
export function buildServer(options: ServerOptions): FastifyInstance {
  const { engine, jobs, log } = options;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? BODY_LIMIT_BYTES,
    // Refuse what the schemas do not allow, instead of quietly dropping or converting it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, discriminator: true } },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Bad URLs (bad percent-encoding, over-long parameters) get the same typed envelope as the rest.
    frameworkErrors: (error, _request, reply) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      return send(reply, status, failure(HTTP_VERB, new UsageError(`Invalid request: ${error.message}`)));
    },
  });

  // JSON only: a text/plain body is refused with 415 instead of reaching the schema as a string.
  app.removeContentTypeParser('text/plain');

  app.addHook('onResponse', async (request, reply) => {
    log.debug(`${request.method} ${request.url.slice(0, 200)} ${reply.statusCode}`, {
      event: 'request',
      verb: request.routeOptions.config.verb,
      method: request.method,
      url: request.url.slice(0, 200),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
  });

  app.setErrorHandler((error: unknown, request, reply) => {
    const verb = request.routeOptions.config.verb ?? HTTP_VERB;
    if (error instanceof ImgbasedError) return send(reply, httpStatusOf(error.code), failure(verb, error));
    const e = error as { validation?: unknown; statusCode?: number; code?: string; message?: string };
    if (e.validation) return send(reply, 400, failure(verb, new UsageError(`Invalid request: ${e.message}`)));
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return send(
        reply,
        e.statusCode,
        failure(verb, new UsageError(`Invalid request: ${e.message}`, { details: { reason: e.code ?? 'http' } })),
      );
    }
    const internal = toImgbasedError(error);
    log.error(`${request.method} ${request.url.slice(0, 200)} failed: ${internal.message}`, {
      event: 'request-failed',
      verb,
      url: request.url.slice(0, 200),
      error: internal.toJSON(),
    });
    return send(reply, httpStatusOf(internal.code), failure(verb, internal));
  });

  app.setNotFoundHandler((request, reply) =>
    send(
      reply,
      404,
      failure(
        HTTP_VERB,
        new UsageError(`No route ${request.method} ${request.url.slice(0, 200)}: see GET /v1/openapi.json`),
      ),
    ),
  );

  const reads = new ReadBatcher();
  for (const route of READ_ROUTES) {
    app.get<{ Params: { name?: string } }>(
      route.url,
      { config: { verb: route.verb }, ...('param' in route ? { schema: { params: NameParamJsonSchema } } : {}) },
      async (request, reply) => {
        const key = `${route.verb}\0${request.params.name ?? ''}`;
        const data = await reads.run(key, () => readVerb(engine(false), route.verb, request.params, {}));
        return send(reply, 200, { schemaVersion: SCHEMA_VERSION, verb: route.verb, data });
      },
    );
  }

  app.post<{ Body: JobRequest }>(
    '/v1/jobs',
    { config: { verb: JOB_VERB }, schema: { body: JobRequestJsonSchema } },
    async (request, reply) => {
      const job = jobs.start(request.body);
      log.info(`job ${job.id} started: ${job.verb}${job.dryRun ? ' (dry run)' : ''}`, {
        event: 'job-started',
        jobId: job.id,
        verb: job.verb,
        args: job.args,
        dryRun: job.dryRun,
      });
      reply.header('location', `/v1/jobs/${job.id}`);
      return send(reply, 202, { schemaVersion: SCHEMA_VERSION, verb: JOB_VERB, data: { jobId: job.id } });
    },
  );

  const jobRoute = { config: { verb: JOB_VERB }, schema: { params: JobIdParamJsonSchema } };

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', jobRoute, async (request, reply) => {
    const job = jobs.get(request.params.id);
    if (!job) return noSuchJob(reply, request.params.id);
    return send(reply, 200, { schemaVersion: SCHEMA_VERSION, verb: JOB_VERB, data: job });
  });

  app.delete<{ Params: { id: string } }>('/v1/jobs/:id', jobRoute, async (request, reply) => {
    const job = jobs.cancel(request.params.id);
    if (!job) return noSuchJob(reply, request.params.id);
    log.info(`job ${job.id} cancel requested: ${job.verb}`, {
      event: 'job-cancel-requested',
      jobId: job.id,
      verb: job.verb,
      state: job.state,
    });
    return send(reply, 202, { schemaVersion: SCHEMA_VERSION, verb: JOB_VERB, data: job });
  });

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/events', jobRoute, (request, reply) => {
    if (!jobs.get(request.params.id)) return noSuchJob(reply, request.params.id);
    streamEvents(request, reply, jobs);
    return reply;
  });

  app.get('/v1/openapi.json', async (_request, reply) =>
    reply.type('application/json').send(`${JSON.stringify(openApiDocument(), null, 2)}\n`),
  );

  return app;
}

/** Server-Sent Events: `id: N`, `event: TYPE`, `data: JSON`; the last one is `end`, then the stream closes. */
function streamEvents(request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, jobs: JobManager) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  let stop: (() => void) | undefined;
  let ended = false;
  stop = jobs.follow(request.params.id, (message) => {
    if (ended) return;
    if ('end' in message) {
      raw.write(`id: ${message.seq}\nevent: end\ndata: ${JSON.stringify(message.end)}\n\n`);
      ended = true;
      stop?.();
      raw.end();
    } else {
      raw.write(`id: ${message.seq}\nevent: ${message.event.type}\ndata: ${JSON.stringify(message.event)}\n\n`);
    }
  });
  if (ended) stop?.();
  request.raw.on('close', () => stop?.());
}

function noSuchJob(reply: FastifyReply, id: string) {
  return send(
    reply,
    404,
    failure(JOB_VERB, new UsageError(`No job '${id}': jobs are kept until 100 newer ones have ended`)),
  );
}

function failure(verb: string, error: ImgbasedError): Envelope {
  return { schemaVersion: SCHEMA_VERSION, verb, error: error.toJSON() };
}

/** The CLI's own formatting (apps/cli/src/output.ts): two-space JSON and a final newline. */
function send(reply: FastifyReply, status: number, envelope: Envelope) {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(`${JSON.stringify(envelope, null, 2)}\n`);
}
