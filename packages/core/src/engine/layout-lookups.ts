import type { StorageReport, ThinVolume } from '../contracts/volume-manager.js';
import { BaseNotFoundError, LayerNotFoundError, NoLayoutError } from '../errors/index.js';
import { emit, type OperationContext } from '../events.js';
import { latestBase, layoutNotes, readLayout } from '../layout/layout.js';
import type { BaseView, LayoutView } from '../layout/schema.js';

/**
 * The layout in a storage report; throws NoLayoutError when the host has none. With a context, says
 * (as `classify` steps, shown by `--debug`) where it read a volume differently from its tag.
 */
export function requireLayout(report: StorageReport, context?: OperationContext): LayoutView {
  const layout = readLayout(report);
  if (!layout) throw new NoLayoutError();
  for (const note of layoutNotes(report)) emit(context, { type: 'step', step: 'classify', message: note });
  return layout;
}

/** The base a new layer belongs to and the volume it snapshots, for `layer --add [--from]`. */
export function pickLayerSource(layout: LayoutView, from: string | undefined): { base: BaseView; source: string } {
  if (from === undefined) {
    const base = latestBase(layout);
    if (!base) throw new BaseNotFoundError('(latest)');
    return { base, source: base.layers.at(-1)?.name ?? base.name };
  }
  if (from.includes('+')) {
    const base = layout.bases.find((b) => b.layers.some((l) => l.name === from));
    if (!base) throw new LayerNotFoundError(from);
    return { base, source: from };
  }
  const base = layout.bases.find((b) => b.name === from);
  if (!base) throw new BaseNotFoundError(from);
  return { base, source: base.layers.at(-1)?.name ?? base.name };
}

export function findVolumeByDevice(
  volumes: readonly ThinVolume[],
  device: { major: number; minor: number },
): ThinVolume | undefined {
  return volumes.find((v) => v.device?.major === device.major && v.device.minor === device.minor);
}

/** The base or layer view whose volume has these device numbers. */
export function findByDevice<T extends { name: string }>(
  views: readonly T[],
  report: StorageReport,
  device: { major: number; minor: number },
): T | undefined {
  const volume = findVolumeByDevice(report.volumes, device);
  return volume && views.find((v) => v.name === volume.name);
}
