import type { BootConfiguration, BootloaderTrial } from '@imgbased/core';
import type { GrubEnvironment } from './grub-env.js';

/** What the trial needs of the plugin's parse: where grubenv is. */
interface WithEnvironment {
  readonly paths: { readonly env: string };
}

/**
 * grub's trial protocol (`grub-counter`, README): two grubenv variables, `imgbased_trial` (the entry)
 * and `imgbased_trial_left`, which the countdown in /etc/grub.d/42_imgbased decrements and saves
 * before the kernel loads. `saved_entry` keeps naming the last good layer. Each change is one
 * grub-editenv run on a copy renamed over the block: disarm and the new default are one rename.
 */
export function grubTrial(env: GrubEnvironment): BootloaderTrial<WithEnvironment> {
  return {
    protocol: 'grub-counter',
    async armed(_location, before: BootConfiguration<WithEnvironment>, context) {
      const variables = await env.list(before.parsed.paths.env, context);
      const entryId = variables.imgbased_trial;
      if (!entryId) return undefined;
      const left = Number.parseInt(variables.imgbased_trial_left ?? '', 10);
      return { entryId, left: Number.isInteger(left) && left > 0 ? left : 0 };
    },
    async arm(_location, entryId, left, before, context) {
      // One digit: the countdown compares strings, 9 down to 1.
      const tries = Math.max(1, Math.min(9, left));
      await env.set(before.parsed.paths.env, [`imgbased_trial=${entryId}`, `imgbased_trial_left=${tries}`], context);
    },
    async disarm(_location, before, makeDefault, context) {
      const assignments = ['imgbased_trial=', 'imgbased_trial_left='];
      if (makeDefault !== undefined) assignments.unshift(`saved_entry=${makeDefault}`);
      await env.set(before.parsed.paths.env, assignments, context);
      return { defaultWritten: makeDefault !== undefined };
    },
  };
}
