import { type Envelope, JOB_VERB } from '@imgbased/client';
import { type ImgbasedError, SCHEMA_VERSION, UsageError } from '@imgbased/core';
import type { FastifyReply } from 'fastify';

export function failure(verb: string, error: ImgbasedError): Envelope {
  return { schemaVersion: SCHEMA_VERSION, verb, error: error.toJSON() };
}

/** The CLI's own formatting (apps/cli/src/output.ts): two-space JSON and a final newline. */
export function send(reply: FastifyReply, status: number, envelope: Envelope) {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(`${JSON.stringify(envelope, null, 2)}\n`);
}

export function noSuchJob(reply: FastifyReply, id: string) {
  return send(
    reply,
    404,
    failure(JOB_VERB, new UsageError(`No job '${id}': jobs are kept until 100 newer ones have ended`)),
  );
}
