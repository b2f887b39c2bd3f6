import type { StorageReport, ThinVolume, VolumeManager } from '../contracts/volume-manager.js';
import { emit, type OperationContext } from '../events.js';
import { Tags } from '../layout/tags.js';

/**
 * Removes what an interrupted operation left half-made. Runs under the lock, so no live operation
 * can own it: volumes still tagged pending, and everything of an unfinished `layout --init` (its
 * group is still tagged pending), whose tags go too, so that `layout --init` can simply run again.
 * Returns the names of the volumes removed.
 */
export async function recoverInterrupted(
  volumes: VolumeManager,
  report: StorageReport,
  context: OperationContext,
): Promise<string[]> {
  const unfinishedInits = report.groups.filter((g) => g.tags.includes(Tags.group) && g.tags.includes(Tags.pending));
  const doomed = report.volumes.filter(
    (v) =>
      v.tags.includes(Tags.pending) ||
      (unfinishedInits.some((g) => g.name === v.vg) && (v.tags.includes(Tags.base) || v.tags.includes(Tags.layer))),
  );
  for (const volume of doomed) {
    emit(context, {
      type: 'step',
      step: 'recover',
      message: `Removing ${volume.name}, left half-made by an interrupted operation`,
    });
    await volumes.remove(volume, context);
  }
  for (const group of unfinishedInits) {
    emit(context, {
      type: 'step',
      step: 'recover',
      message: `Undoing the interrupted layout --init of ${group.name}`,
    });
    for (const volume of [...report.pools, ...report.volumes]) {
      const stale = volume.tags.filter((t) => t === Tags.pool || t === Tags.init);
      if (volume.vg === group.name && stale.length > 0 && !doomed.includes(volume as ThinVolume)) {
        await volumes.change(volume, { removeTags: stale }, context);
      }
    }
    await volumes.changeGroup(group.name, { removeTags: [Tags.group, Tags.pending] }, context);
  }
  return doomed.map((v) => v.name);
}
