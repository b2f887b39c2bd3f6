import type { BaseView, ChangeResult } from '../layout/schema.js';
import type { BootEntries } from './boot-entries.js';
import { step } from './change-path.js';
import type { Transaction } from './transaction.js';
import type { VolumeSteps } from './volume-steps.js';

/**
 * Removes a base with its layers, in an order that keeps the host consistent at any instant a kill can
 * observe: (1) the default moves off the base's entries (refusing, before any change, to remove the
 * last bootable entry); (2) every volume is tagged pending, newest layer first, the base last; (3) the
 * entries go (their files at commit); (4) the volumes go, newest layer first. After (2) a kill leaves
 * pending volumes, whose entries and volumes the next recovery removes: the removal is finished, not
 * half undone. A failure in the process undoes what it can: entries, tags and the default of the
 * volumes still there (removed volumes are not brought back).
 */
export async function removeBaseSafely(
  tx: Transaction,
  result: ChangeResult,
  steps: VolumeSteps,
  boot: BootEntries,
  vg: string,
  base: Pick<BaseView, 'name' | 'layers'>,
  purpose: string,
): Promise<void> {
  const layers = base.layers.map((l) => l.name);
  const newestFirst = [...layers].reverse();
  await boot.moveDefaultOff(tx, layers);
  for (const name of [...newestFirst, base.name]) {
    tx.checkpoint(purpose);
    await steps.markForRemoval(tx, { vg, name });
  }
  await boot.removeBootEntries(tx, result, layers);
  for (const name of newestFirst) {
    tx.checkpoint(purpose);
    step(tx, 'remove', `Removing layer ${name}`);
    await steps.remove(tx, result, { vg, name });
  }
  tx.checkpoint(purpose);
  step(tx, 'remove', `Removing base ${base.name}`);
  await steps.remove(tx, result, { vg, name: base.name });
}
