import type { JobRequest, JobResult, Verb } from '@imgbased/client';
import { type ImageEngine, NotRootError, type OperationContext, parseSize } from '@imgbased/core';

/**
 * What each verb answers: exactly the `data` the CLI prints with `--json` (apps/cli/src/cli.ts), each
 * one a single engine call. The daemon has no engine logic of its own.
 */
export function readVerb(
  engine: ImageEngine,
  verb: Verb,
  params: { name?: string },
  context: OperationContext,
): Promise<unknown> {
  const name = params.name ?? '';
  switch (verb) {
    case 'layout':
      return engine.layout(context);
    case 'layout --bases':
      return engine.layout(context).then((l) => ({ bases: l.bases.map((b) => b.name) }));
    case 'layout --layers':
      return engine.layout(context).then((l) => ({ layers: l.bases.flatMap((b) => b.layers.map((x) => x.name)) }));
    case 'layout --free-space':
      return engine.freeSpace(context);
    case 'base --latest':
      return engine.latestBase(context).then((b) => ({ base: b.name }));
    case 'base --of-layer':
      return engine.baseOfLayer(name, context).then((b) => ({ base: b.name }));
    case 'layer --latest':
      return engine.latestLayer(context).then((l) => ({ layer: l.name }));
    case 'layer --current':
    case 'w':
      return engine.currentLayer(context).then((l) => ({ layer: l.name }));
    case 'layer --volume-path':
      return engine.volumePath(name, context).then((path) => ({ path }));
    case 'boot --list':
      return engine.bootList(context);
    case 'boot --get-default':
      return engine.bootDefault(context);
    case 'boot --kernel-args':
      return engine.kernelArgs(name, context);
    default:
      throw new Error(`not a read verb: ${verb}`);
  }
}

/** Runs a changing verb; as in the CLI, only root may (a dry run too). */
export function runJobVerb(
  engine: ImageEngine,
  job: JobRequest,
  isRoot: boolean,
  context: OperationContext,
): Promise<JobResult> {
  if (!isRoot) throw new NotRootError(job.verb);
  switch (job.verb) {
    case 'layout --init':
      return engine.initLayout({ nvr: job.args.nvr, from: job.args.from ?? '/' }, context);
    case 'base --add':
      return engine.addBase({ nvr: job.args.nvr, sizeBytes: parseSize(job.args.size), image: job.args.image }, context);
    case 'base --remove':
      return engine.removeBase(job.args.name, context);
    case 'layer --add':
      return engine.addLayer({ from: job.args?.from }, context);
    case 'boot --set-default':
      return engine.setDefaultBoot(job.args.layer, context);
    case 'boot --next':
      return engine.setNextBoot(job.args.layer, context);
    case 'boot --edit-kernel-args':
      return engine.editKernelArgs(job.args.layer, { append: job.args.append, delete: job.args.delete }, context);
  }
}
