import { type Envelope, JOB_VERB } from '@imgbased/client';
import { type ImgbasedError, SCHEMA_VERSION, UsageError } from '@imgbased/core';
import type { FastifyReply } from 'fastify';

export function failure(verb: string, error: ImgbasedError): Envelope {
  return { schemaVersion: SCHEMA_VERSION, verb, error: error.toJSON() };
}

/** The CLI's own formatting (apps/cli/src/output.ts): two-space JSON and a final newline. */
export function envelopeText(envelope: Envelope): string {
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

export function send(reply: FastifyReply, status: number, envelope: Envelope) {
  return sendText(reply, status, envelopeText(envelope));
}

/** An envelope already formatted by envelopeText (read answers are formatted once for all callers). */
export function sendText(reply: FastifyReply, status: number, text: string) {
  return reply.code(status).type('application/json; charset=utf-8').send(text);
}

export function noSuchJob(reply: FastifyReply, id: string) {
  return send(
    reply,
    404,
    failure(JOB_VERB, new UsageError(`No job '${id}': jobs are kept until 100 newer ones have ended`)),
  );
}
