import type { Bootloader, BootState } from '../../contracts/bootloader.js';
import type { MountedRoot } from '../../contracts/host.js';
import type { MountEntry } from '../../contracts/host-admin.js';
import type { StorageReport } from '../../contracts/volume-manager.js';
import type { OperationContext } from '../../events.js';
import { allLayers } from '../../layout/layout.js';
import type { LayerView, LayoutView } from '../../layout/schema.js';
import { findByDevice, requireLayout } from '../layout-lookups.js';
import type { AdminParts } from './parts.js';

/** What status and check read of the host, once: LVM, the root mount, the boot configuration, the mount table. */
export interface HostState {
  readonly report: StorageReport;
  readonly layout: LayoutView;
  readonly root: MountedRoot;
  /** The layer mounted at /; undefined when the host runs from none. */
  readonly running: LayerView | undefined;
  readonly bootloader: Bootloader | undefined;
  /** undefined without a bootloader, or when its configuration cannot be read (`bootError`). */
  readonly boot: BootState | undefined;
  readonly bootError: string | undefined;
  /** undefined when the mount table cannot be read here. */
  readonly mounts: readonly MountEntry[] | undefined;
}

/** Reads the host state; throws NoLayoutError when the host has no layout. Changes nothing. */
export async function readHostState(parts: AdminParts, context: OperationContext): Promise<HostState> {
  const [report, root, bootloader, mounts] = await Promise.all([
    parts.volumes.report(context),
    parts.host.mountedRoot(context),
    parts.bootloaders?.select(context),
    parts.mounts?.list(context),
  ]);
  const layout = requireLayout(report, context);
  const running = root.device && findByDevice(allLayers(layout), report, root.device);
  let boot: BootState | undefined;
  let bootError: string | undefined;
  try {
    boot = await bootloader?.state(context);
  } catch (error) {
    bootError = error instanceof Error ? error.message : String(error);
  }
  return { report, layout, root, running: running || undefined, bootloader, boot, bootError, mounts };
}

/** The committed layers, bases' and orphans'. */
export function committedLayerNames(layout: LayoutView): Set<string> {
  return new Set([...allLayers(layout), ...layout.orphanLayers].map((l) => l.name));
}

/** True when a mount's source is this volume (by device numbers, else by its /dev/VG/LV or /dev/mapper name). */
export function mountIsVolume(
  mount: MountEntry,
  volume: { vg: string; name: string; device?: { major: number; minor: number } | undefined },
): boolean {
  if (mount.device && volume.device)
    return mount.device.major === volume.device.major && mount.device.minor === volume.device.minor;
  const mapper = `/dev/mapper/${volume.vg.replaceAll('-', '--')}-${volume.name.replaceAll('-', '--')}`;
  return mount.source === `/dev/${volume.vg}/${volume.name}` || mount.source === mapper;
}
