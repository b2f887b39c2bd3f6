import { httpStatusOf, JOB_VERB, JobIdParamJsonSchema, type JobRequest, JobRequestJsonSchema } from '@imgbased/client';
import { BusyError, SCHEMA_VERSION } from '@imgbased/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { confineJobImages } from './image-dir.js';
import type { JobManager } from './jobs.js';
import type { Logger } from './log.js';
import { type Caller, callerFields } from './peer.js';
import { failure, noSuchJob, send } from './reply.js';

export interface JobRouteOptions {
  readonly jobs: JobManager;
  readonly log: Logger;
  /** Images named in job arguments are read only below this directory. */
  readonly imageDir: string;
  /** Event streams open at once; more get 429 E_BUSY. */
  readonly maxEventStreams: number;
  /**
   * How often an open event stream gets a comment line: it keeps a stream that waits for its next event
   * within the connection's idle timeout, and a write to a vanished client closes the stream.
   */
  readonly heartbeatMs: number;
  readonly callerOf: (request: FastifyRequest) => Caller;
}

/** `POST /v1/jobs`, `GET|DELETE /v1/jobs/:id`, `GET /v1/jobs/:id/events` (Server-Sent Events). */
export function registerJobRoutes(app: FastifyInstance, options: JobRouteOptions): void {
  const { jobs, log, callerOf } = options;

  app.post<{ Body: JobRequest }>(
    '/v1/jobs',
    { config: { verb: JOB_VERB }, schema: { body: JobRequestJsonSchema } },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = await confineJobImages(request.body, options.imageDir);
      const job = jobs.start(body, caller);
      log.info(
        `job ${job.id} started: ${job.verb}${job.dryRun ? ' (dry run)' : ''} by uid ${caller.uid} pid ${caller.pid}`,
        {
          event: 'job-started',
          jobId: job.id,
          verb: job.verb,
          args: job.args,
          dryRun: job.dryRun,
          ...callerFields(caller),
        },
      );
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
    const caller = callerOf(request);
    log.info(`job ${job.id} cancel requested: ${job.verb} by uid ${caller.uid} pid ${caller.pid}`, {
      event: 'job-cancel-requested',
      jobId: job.id,
      verb: job.verb,
      state: job.state,
      ...callerFields(caller),
    });
    return send(reply, 202, { schemaVersion: SCHEMA_VERSION, verb: JOB_VERB, data: job });
  });

  let openStreams = 0;
  app.get<{ Params: { id: string } }>('/v1/jobs/:id/events', jobRoute, (request, reply) => {
    if (!jobs.get(request.params.id)) return noSuchJob(reply, request.params.id);
    if (openStreams >= options.maxEventStreams) {
      const busy = new BusyError('event-streams', options.maxEventStreams);
      return send(reply, httpStatusOf(busy.code), failure(JOB_VERB, busy));
    }
    openStreams++;
    streamEvents(request, reply, jobs, options.heartbeatMs, () => openStreams--);
    return reply;
  });
}

/** Server-Sent Events: `id: N`, `event: TYPE`, `data: JSON`; the last one is `end`, then the stream closes. */
function streamEvents(
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  jobs: JobManager,
  heartbeatMs: number,
  onClosed: () => void,
) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), heartbeatMs);
  heartbeat.unref();
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
  // The response's close: the stream ended, or the client went away (its slot is free again).
  raw.once('close', () => {
    clearInterval(heartbeat);
    stop?.();
    onClosed();
  });
}
