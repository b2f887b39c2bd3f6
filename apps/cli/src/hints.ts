import type { ImgbasedError } from '@imgbased/core';

/**
 * What to do next, after a verb that changed what the host boots: a change to boot entries takes
 * effect only at the next boot, which is easy to forget. Read from the result's shape, not from the
 * verb's name, so that verbs added later get their hint too. Printed on stderr, never with --json.
 */
export function hintsAfter(verb: string, data: unknown): string[] {
  if (typeof data !== 'object' || data === null || (data as { dryRun?: unknown }).dryRun !== false) return [];
  const result = data as Record<string, unknown>;
  const boot = result.boot as { added?: unknown; trial?: unknown } | undefined;
  if (Array.isArray(boot?.added) && boot.added.length > 0) {
    const layers = (Array.isArray(result.created) ? (result.created as string[]) : []).filter((n) => n.includes('+'));
    const layer = layers.at(-1);
    // `update`'s trial is said at the top of its result, `layer --add --trial`'s in its boot record.
    const how =
      result.trial === true || boot?.trial === true ? 'it boots next as a trial' : 'its boot entry is the default now';
    return [layer ? `reboot to use ${layer}: ${how}` : 'reboot to use the new boot entry'];
  }
  if (typeof result.layer === 'string' && typeof result.entry === 'string') {
    if (Array.isArray(result.previous)) return [`the new kernel arguments take effect when ${result.layer} boots next`];
    if (verb.includes('--next')) return [`reboot to boot ${result.layer} once (then the default again)`];
    return [`reboot to use ${result.layer}`];
  }
  return [];
}

/** A hint after a failure that has a likely cause the message cannot know. */
export function hintsAfterFailure(failure: ImgbasedError, context: { isRoot: boolean; dryRun: boolean }): string[] {
  // Reads and dry runs need no root of imgbase's own, but LVM's reads do.
  if (context.isRoot || failure.code !== 'E_COMMAND_FAILED') return [];
  return [`reading LVM needs root${context.dryRun ? ', in a dry run too' : ''}: run imgbase as root`];
}
