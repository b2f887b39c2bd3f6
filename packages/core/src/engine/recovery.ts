import type { BootloaderSelection } from '../contracts/bootloader.js';
import type { FilesystemDriver } from '../contracts/filesystem.js';
import type { StorageReport, ThinVolume, VolumeManager } from '../contracts/volume-manager.js';
import { emit, type OperationContext } from '../events.js';
import { allLayers, readLayout } from '../layout/layout.js';
import { Tags } from '../layout/tags.js';
import { type PlannedStep, planBootRepair } from './reconcile-boot.js';
import type { RecoveryPlan } from './recovery-plan.js';

/**
 * One recovery for the whole host state, run under the lock at the start of every changing verb (no
 * live operation can own what it finds): unmounts what a killed imgbased process left mounted, brings
 * the boot configuration in line with the committed layers (reconcile-boot), then removes the volumes
 * an interrupted operation left half-made (still tagged pending, or all of an unfinished `layout
 * --init`, whose tags go too, so that it can simply run again). Boot entries go before their volumes:
 * a crash in recovery itself leaves entries that the next recovery still finds.
 */
export class HostRecovery {
  constructor(
    private readonly volumes: VolumeManager,
    private readonly filesystem: FilesystemDriver,
    private readonly bootloaders: BootloaderSelection | undefined,
  ) {}

  /** What recovery would do, without doing it. */
  async plan(report: StorageReport, context: OperationContext): Promise<RecoveryPlan> {
    return { steps: (await this.planned(report, context)).map((p) => p.step) };
  }

  /** Repairs what interrupted operations left; returns the names of the volumes removed. */
  async recover(report: StorageReport, context: OperationContext): Promise<string[]> {
    const removed: string[] = [];
    for (const planned of await this.planned(report, context)) {
      emit(context, { type: 'step', step: 'recover', message: planned.step.message });
      await planned.run(context);
      if (planned.step.kind === 'remove-volume') removed.push(...planned.step.targets);
    }
    return removed;
  }

  private async planned(report: StorageReport, context: OperationContext): Promise<PlannedStep[]> {
    const steps: PlannedStep[] = [];
    const mounts = (await this.filesystem.leftoverMounts?.(context)) ?? [];
    for (const mount of mounts) {
      steps.push({
        step: {
          kind: 'unmount',
          targets: [mount.directory],
          message: `Unmounting ${mount.source} from ${mount.directory}, left mounted by a killed imgbased`,
        },
        run: (c) => this.filesystem.releaseMount!(mount, c),
      });
    }
    const committed = committedLayers(report);
    if (committed !== undefined) {
      // A configured bootloader that is not there is the boot verbs' error to report, not a reason to
      // refuse every change: recovery then leaves the boot configuration alone.
      const bootloader = await this.bootloaders?.select(context).catch((error: unknown) => {
        emit(context, { type: 'warning', message: `recovery left the boot configuration alone: ${String(error)}` });
        return undefined;
      });
      steps.push(...(await planBootRepair(bootloader, committed, context)));
    }
    steps.push(...this.planVolumes(report));
    return steps;
  }

  private planVolumes(report: StorageReport): PlannedStep[] {
    const unfinishedInits = report.groups.filter((g) => g.tags.includes(Tags.group) && g.tags.includes(Tags.pending));
    const doomed = report.volumes.filter(
      (v) =>
        v.tags.includes(Tags.pending) ||
        (unfinishedInits.some((g) => g.name === v.vg) && (v.tags.includes(Tags.base) || v.tags.includes(Tags.layer))),
    );
    const steps: PlannedStep[] = doomed.map((volume) => ({
      step: {
        kind: 'remove-volume',
        targets: [volume.name],
        message: `Removing ${volume.name}, left half-made by an interrupted operation`,
      },
      run: (c) => this.volumes.remove(volume, c),
    }));
    for (const group of unfinishedInits) {
      steps.push({
        step: {
          kind: 'undo-init',
          targets: [group.name],
          message: `Undoing the interrupted layout --init of ${group.name}`,
        },
        run: async (c) => {
          for (const volume of [...report.pools, ...report.volumes]) {
            const stale = volume.tags.filter((t) => t === Tags.pool || t === Tags.init);
            if (volume.vg === group.name && stale.length > 0 && !doomed.includes(volume as ThinVolume)) {
              await this.volumes.change(volume, { removeTags: stale }, c);
            }
          }
          await this.volumes.changeGroup(group.name, { removeTags: [Tags.group, Tags.pending] }, c);
        },
      });
    }
    return steps;
  }
}

/**
 * The layers whose volumes are committed: settled, in a finished layout. Undefined when the host has
 * no layout (not even an unfinished one), or one that cannot be read: then boot entries are not judged.
 */
function committedLayers(report: StorageReport): Set<string> | undefined {
  try {
    const layout = readLayout(report);
    if (!layout) return undefined;
    return new Set([...allLayers(layout), ...layout.orphanLayers].map((l) => l.name));
  } catch {
    return undefined;
  }
}
