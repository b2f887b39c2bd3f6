import type { JobRequest, JobResult, ReadRoute } from '@imgbased/client';
import { NotRootError, type OperationContext, VERBS, type VerbDefinition, type VerbEngine } from '@imgbased/core';

/**
 * The daemon's verbs are core's verb table: a route or a job names a verb, and its entry makes the
 * engine call. The data is exactly what the CLI prints with `--json`; the daemon has no engine logic.
 */
export function readVerb(
  engine: VerbEngine,
  verb: ReadRoute['verb'],
  params: { name?: string },
  context: OperationContext,
): Promise<unknown> {
  const definition: VerbDefinition = VERBS[verb];
  // A route's path parameter is the verb's one argument (`name`); verbs without one take none.
  return definition.run(engine, definition.http?.param ? { name: params.name ?? '' } : {}, context);
}

/** Runs a changing verb; as in the CLI, only root may (a dry run too). */
export async function runJobVerb(
  engine: VerbEngine,
  job: JobRequest,
  isRoot: boolean,
  context: OperationContext,
): Promise<JobResult> {
  if (!isRoot) throw new NotRootError(job.verb);
  const definition: VerbDefinition = VERBS[job.verb];
  // The request's args were validated against the verb's own schema (JobRequestJsonSchema) already.
  return (await definition.run(engine, job.args ?? {}, context)) as JobResult;
}
