import { TrialBoots } from '../boot/trial-boots.js';
import type { Bootloader } from '../contracts/bootloader.js';
import type { OperationContext } from '../events.js';

/**
 * A default chosen by the admin (`boot --set-default`, `rollback`) ends a running trial first, or the
 * bootloader's countdown would still boot the trial: choosing the trial layer marks it good; choosing
 * any other marks the trial bad, saying why. Call before the default is written: marking bad points
 * the default back at the last good layer, which the admin's choice then replaces.
 */
export async function endTrialForDefault(
  bootloader: Bootloader,
  layer: string,
  verb: string,
  context: OperationContext,
): Promise<void> {
  const trial = bootloader.trial?.();
  if (trial === undefined || context.dryRun) return;
  const running = (await trial.readRecord(context)).trial;
  if (running === undefined) return;
  const trials = new TrialBoots(trial, { tries: running.tries, onFailure: 'stay' });
  if (running.layer === layer) await trials.markGood(layer, context);
  else await trials.markBad(running.layer, `ended by ${verb} ${layer}`, context);
}
