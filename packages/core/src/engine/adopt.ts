import type { HostInfo } from '../contracts/host.js';
import type { StorageReport, ThinVolume, VolumeChange, VolumeManager } from '../contracts/volume-manager.js';
import type { OperationContext } from '../events.js';
import type { AdoptResult, AdoptStep } from '../layout/adopt-schema.js';
import { classifyVolumes } from '../layout/classify.js';
import { Tags } from '../layout/tags.js';
import { type ChangePath, step } from './change-path.js';
import { findVolumeByDevice, requireLayout } from './layout-lookups.js';

/** One change of `layout --adopt`, with the change that takes it back. */
export interface AdoptionStep extends AdoptStep {
  readonly change: VolumeChange;
  readonly undo: VolumeChange;
}

/**
 * What `layout --adopt` changes on a layout the original laid out, so that it follows ours'
 * conventions: each base and layer carries its own kind's tag only (the original tags its first base
 * `imgbased:layer`), and each base is protected (read-only, activation skip, inactive; the original
 * leaves its first base writable and active). Pure. Names are never changed, nor are layers'
 * attributes, the pool (profile, metadata), `root`, the separate volumes or the boot entries: the
 * original, still installed in older layers, finds volumes tagged base or layer and reads them by
 * name, so it reads the adopted layout as before. The running root is never deactivated (skipped).
 */
export function planAdoption(
  report: StorageReport,
  vg: string,
  rootDevice: { major: number; minor: number } | undefined,
): { steps: AdoptionStep[]; skipped: string[] } {
  const settled = report.volumes.filter((v) => v.vg === vg && !v.tags.includes(Tags.pending));
  const { bases, layers, unreadable } = classifyVolumes(settled);
  const running = rootDevice && findVolumeByDevice(settled, rootDevice);
  const steps: AdoptionStep[] = [];
  const skipped = unreadable.map((v) => `${v.name}: its name is neither NVR nor NVR+N`);
  const retag = (volume: ThinVolume, kind: 'base' | 'layer') => {
    const own = kind === 'base' ? Tags.base : Tags.layer;
    const other = kind === 'base' ? Tags.layer : Tags.base;
    const add = volume.tags.includes(own) ? [] : [own];
    const remove = volume.tags.includes(other) ? [other] : [];
    if (add.length === 0 && remove.length === 0) return;
    steps.push({
      volume: volume.name,
      kind,
      step: 'tag',
      message: `Tagging ${volume.name} ${own}${remove.length > 0 ? ` instead of ${other}` : ''}`,
      change: { addTags: add, removeTags: remove },
      undo: { addTags: remove, removeTags: add },
    });
  };
  for (const { volume } of bases) {
    retag(volume, 'base');
    if (volume.readOnly && volume.activationSkip && !volume.active) continue;
    if (volume === running) {
      skipped.push(`${volume.name}: it is the running root, left writable and active`);
      continue;
    }
    steps.push({
      volume: volume.name,
      kind: 'base',
      step: 'protect',
      message: `Protecting base ${volume.name} (read-only, activation skip, inactive)`,
      change: { readOnly: true, activationSkip: true, active: false },
      undo: { readOnly: volume.readOnly, activationSkip: volume.activationSkip, active: volume.active },
    });
  }
  for (const { volume } of layers) retag(volume, 'layer');
  return { steps, skipped };
}

/** `layout --adopt`: the plan above, step by step on the change path; any failure undoes every step. */
export class Adoption {
  constructor(
    private readonly path: ChangePath,
    private readonly volumes: VolumeManager,
    private readonly host: HostInfo,
  ) {}

  async adopt(context: OperationContext): Promise<AdoptResult> {
    const done: AdoptStep[] = [];
    let skipped: string[] = [];
    const result = await this.path.change('layout --adopt', context, async (tx, report) => {
      const layout = requireLayout(report, tx.context);
      const root = await this.host.mountedRoot(tx.context);
      const plan = planAdoption(report, layout.vg, root.device);
      skipped = plan.skipped;
      if (plan.steps.length === 0) step(tx, 'adopt', 'Nothing to adopt: the layout follows imgbased’s conventions');
      for (const { change, undo, ...described } of plan.steps) {
        tx.checkpoint('layout --adopt');
        step(tx, 'adopt', `${context.dryRun ? 'Would: ' : ''}${described.message}`);
        const ref = { vg: layout.vg, name: described.volume };
        await this.volumes.change(ref, change, tx.context);
        tx.onUndo(`undo: ${described.message}`, (c) => this.volumes.change(ref, undo, c));
        done.push(described);
      }
    });
    return { dryRun: result.dryRun, steps: done, skipped, plan: result.plan };
  }
}
