import { entryIdForLayer } from '../boot/entries.js';
import { TrialBoots, type TrialOptions } from '../boot/trial-boots.js';
import type { Bootloader } from '../contracts/bootloader.js';
import type { TrialBootloader } from '../contracts/trial-bootloader.js';
import { BootUnsupportedError, NoBootloaderError, UsageError } from '../errors/index.js';
import { emit, type OperationContext } from '../events.js';
import { step } from './change-path.js';
import type { Transaction } from './transaction.js';

/**
 * Registers the commit step that boots the update's new layer as a trial (docs/trial-boots.md): the
 * last good layer stays the default until the new one's checks pass. A trial still running from an
 * earlier update is marked bad first (superseded). Returns false when the bootloader has no trial
 * boots, or the default is not one of imgbased's (nothing to fall back on): the caller then makes the
 * layer the default, as before trials existed, and a one-line warning says so.
 */
export async function registerTrialBoot(
  tx: Transaction,
  bootloader: Bootloader,
  layer: string,
  options: TrialOptions,
): Promise<boolean> {
  const trial = bootloader.trial?.();
  if (trial === undefined) {
    emit(tx.context, {
      type: 'warning',
      message: `${bootloader.name} has no trial boots: ${layer} becomes the default at once ([trial] enabled)`,
    });
    return false;
  }
  if ((await new TrialBoots(trial, options).machine(tx.context)).boot.defaultLayer === '') {
    emit(tx.context, {
      type: 'warning',
      message: `the default boot entry is not one of imgbased’s: no trial to fall back from, ${layer} becomes the default at once`,
    });
    return false;
  }
  step(tx, 'boot', `${layer} will boot next as a trial (${options.tries} boots; ${bootloader.name})`);
  tx.onCommit(`boot ${layer} as a trial`, async (context) => {
    const trials = new TrialBoots(trial, options);
    const machine = await trials.machine(context);
    if (machine.boot.defaultLayer === '') {
      // The default moved off imgbased's entries during the update: nothing to try against.
      await bootloader.setDefault(entryIdForLayer(layer), context);
      return;
    }
    const running = machine.record.trial;
    if (running !== undefined) await trials.markBad(running.layer, `superseded by ${layer}`, context);
    await trials.start(layer, context);
  });
  return true;
}

/**
 * `--trial` given to `layer --add` or `boot --set-default`: refuses, before any change, a bootloader
 * without trial boots, a running trial, and a default that is not one of imgbased's.
 */
export async function requireTrialBoots(
  bootloader: Bootloader | undefined,
  options: TrialOptions,
  context: OperationContext,
): Promise<TrialBootloader> {
  if (!bootloader) throw new NoBootloaderError(['auto']);
  const trial = bootloader.trial?.();
  if (!trial) throw new BootUnsupportedError(bootloader.name, 'boot a layer as a trial (drop --trial)');
  const machine = await new TrialBoots(trial, options).machine(context);
  const running = machine.record.trial;
  if (running !== undefined) {
    throw new UsageError(
      `A trial of ${running.layer} is running: boot --mark-good or --mark-bad ${running.layer} first`,
    );
  }
  if (machine.boot.defaultLayer === '') throw new UsageError('No default boot entry to fall back on: set one first');
  return trial;
}
