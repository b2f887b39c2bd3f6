import { entryIdForLayer } from '../boot/entries.js';
import { TrialBoots, type TrialOptions } from '../boot/trial-boots.js';
import type { Bootloader } from '../contracts/bootloader.js';
import { step } from './change-path.js';
import type { Transaction } from './transaction.js';

/**
 * Registers the commit step that boots the update's new layer as a trial (docs/trial-boots.md): the
 * last good layer stays the default until the new one's checks pass. A trial still running from an
 * earlier update is marked bad first (superseded). Returns false when the bootloader has no trial
 * boots: the caller then makes the layer the default, as before trials existed, and says so.
 */
export function registerTrialBoot(
  tx: Transaction,
  bootloader: Bootloader,
  layer: string,
  options: TrialOptions,
): boolean {
  const trial = bootloader.trial?.();
  if (trial === undefined) {
    // A step, not a warning: until every plugin has trial boots, each update would warn.
    step(tx, 'boot', `${bootloader.name} has no trial boots: ${layer} becomes the default at once`);
    return false;
  }
  tx.onCommit(`boot ${layer} as a trial`, async (context) => {
    const trials = new TrialBoots(trial, options);
    const machine = await trials.machine(context);
    if (machine.boot.defaultLayer === '') {
      // No good layer to fall back on (the default is not one of imgbased's): nothing to try against.
      await bootloader.setDefault(entryIdForLayer(layer), context);
      return;
    }
    const running = machine.record.trial;
    if (running !== undefined) await trials.markBad(running.layer, `superseded by ${layer}`, context);
    await trials.start(layer, context);
  });
  return true;
}
