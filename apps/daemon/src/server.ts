import type { Socket } from 'node:net';
import {
  BODY_LIMIT_BYTES,
  HTTP_VERB,
  httpStatusOf,
  NameParamJsonSchema,
  openApiDocument,
  READ_ROUTES,
} from '@imgbased/client';
import {
  defaultConfig,
  ForbiddenError,
  type ImageEngine,
  type ImgbasedConfig,
  ImgbasedError,
  NotRootError,
  SCHEMA_VERSION,
  toImgbasedError,
  UsageError,
} from '@imgbased/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { ReadBatcher } from './coalesce.js';
import { registerJobRoutes } from './job-routes.js';
import type { JobManager } from './jobs.js';
import type { Logger } from './log.js';
import { type Caller, callerFields } from './peer.js';
import type { ReadCache } from './read-cache.js';
import { envelopeText, failure, send, sendText } from './reply.js';
import { readVerb } from './verbs.js';

export interface ServerOptions {
  /** The engine (real, or the dry-run one). */
  readonly engine: (dryRun: boolean) => ImageEngine;
  readonly jobs: JobManager;
  readonly log: Logger;
  /**
   * Who is calling, from the connection (its peer credentials, see peer.ts) and what they may do.
   * Asked once per connection; a throw refuses the request (500), it never lets it through.
   */
  readonly callerOf: (socket: Socket) => Caller;
  /** The group whose members may read (named in E_FORBIDDEN). */
  readonly group?: string;
  /** `[daemon]` of the configuration: image directory, limits, timeouts. */
  readonly settings?: ImgbasedConfig['daemon'];
  readonly bodyLimit?: number;
  /**
   * Answers the reads that show only LVM's state (CACHED_VERBS) from what was read before, while no
   * change happened (see read-cache.ts). Without it every read goes to the engine.
   */
  readonly readCache?: ReadCache;
}

/**
 * The read verbs whose answer is the layout or part of it: LVM's state only, which the read cache's
 * stamp covers. Those that read the mounts (`layer --current`, `w`), boot files or anything else are
 * not cached: the stamp would not see those change.
 */
export const CACHED_VERBS: ReadonlySet<string> = new Set([
  'layout',
  'layout --bases',
  'layout --layers',
  'layout --free-space',
  'base --latest',
  'base --of-layer',
  'layer --latest',
  'layer --volume-path',
]);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The verb named in the envelope of this route's answers (errors included). */
    verb?: string;
  }
  interface FastifyRequest {
    /** The connection's caller, set before anything else looks at the request. */
    caller?: Caller;
  }
}

/** Methods that read; everything else changes (POST a job, DELETE = cancel) and needs root. */
const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * The HTTP API: the route table of @imgbased/client, each read route one engine call, changes as jobs.
 * Every body is the envelope `imgbase --json` prints, with the same formatting, so that a daemon answer
 * and the CLI's output of the same verb are the same text. Everything that goes wrong, malformed
 * requests included, is answered with a typed error envelope and a 4xx/5xx status; nothing a client
 * sends stops the server.
 */
export function buildServer(options: ServerOptions): FastifyInstance {
  const { engine, jobs, log } = options;
  const settings = options.settings ?? defaultConfig().daemon;
  const requestTimeoutMs = settings.request_timeout * 1000;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? BODY_LIMIT_BYTES,
    // A connection idle this long is closed; a request must arrive whole (headers and body) in
    // request_timeout, else 408; Node checks these every second (its default: 30 s).
    connectionTimeout: settings.connection_timeout * 1000,
    keepAliveTimeout: Math.min(5000, settings.connection_timeout * 1000),
    requestTimeout: requestTimeoutMs,
    http: { connectionsCheckingInterval: 1000 },
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

  // Authorisation, first of all (before a body is read): from the connection's peer credentials.
  const callers = new WeakMap<Socket, Caller>();
  app.decorateRequest('caller', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket;
    let caller = callers.get(socket);
    if (!caller) {
      caller = options.callerOf(socket);
      callers.set(socket, caller);
    }
    request.caller = caller;
    const verb = request.routeOptions.config.verb ?? HTTP_VERB;
    if (caller.access === 'none') {
      return send(reply, 403, failure(verb, new ForbiddenError(caller.uid, options.group ?? 'imgbased')));
    }
    if (caller.access !== 'change' && !READ_METHODS.has(request.method)) {
      return send(reply, 403, failure(verb, new NotRootError(`${request.method} ${request.routeOptions.url ?? ''}`)));
    }
    return undefined;
  });

  app.addHook('onResponse', async (request, reply) => {
    log.debug(`${request.method} ${request.url.slice(0, 200)} ${reply.statusCode}`, {
      event: 'request',
      verb: request.routeOptions.config.verb,
      method: request.method,
      url: request.url.slice(0, 200),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      ...(request.caller ? callerFields(request.caller) : {}),
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
  const cache = options.readCache;
  for (const route of READ_ROUTES) {
    const routeCache = CACHED_VERBS.has(route.verb) ? cache : undefined;
    app.get<{ Params: { name?: string } }>(
      route.url,
      { config: { verb: route.verb }, ...('param' in route ? { schema: { params: NameParamJsonSchema } } : {}) },
      async (request, reply) => {
        const key = `${route.verb}\0${request.params.name ?? ''}`;
        // The answer is formatted once for every caller that shares the read.
        const read = () =>
          reads.run(key, async () => {
            const data = await readVerb(engine(false), route.verb, request.params, {});
            return envelopeText({ schemaVersion: SCHEMA_VERSION, verb: route.verb, data });
          });
        return sendText(reply, 200, await (routeCache ? routeCache.read(key, read) : read()));
      },
    );
  }

  registerJobRoutes(app, {
    jobs,
    log,
    imageDir: settings.image_dir,
    maxEventStreams: settings.max_event_streams,
    heartbeatMs: Math.min(15_000, (settings.connection_timeout * 1000) / 3),
    callerOf: (request) => request.caller!,
  });

  app.get('/v1/openapi.json', async (_request, reply) =>
    reply.type('application/json').send(`${JSON.stringify(openApiDocument(), null, 2)}\n`),
  );

  return app;
}
