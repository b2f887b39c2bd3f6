import { volumePath } from '../../contracts/volume-manager.js';
import { BaseNotFoundError, LayerNotFoundError, MountRefusedError, NotMountedError } from '../../errors/index.js';
import type { OperationContext } from '../../events.js';
import type { LayerMount } from '../../layout/admin-schema.js';
import { allLayers } from '../../layout/layout.js';
import { validateVolumeName } from '../../naming/nvr.js';
import { step } from '../change-path.js';
import { findByDevice, requireLayout } from '../layout-lookups.js';
import { mountIsVolume } from './host-state.js';
import { type AdminParts, required } from './parts.js';

/** Where `layer --mount LAYER` mounts without a DIR (never imgbased's own short-lived mount directory). */
export const LAYER_MOUNT_DIR = '/run/imgbased/layers';

/**
 * `imgbase layer --mount NAME [DIR] [--rw]`: a layer (or base) mounted for a look inside, read-only
 * unless `--rw`. Bases and the running layer are never mounted read-write; the running layer is
 * bind-mounted (the kernel refuses a second, read-only mount of a file system mounted read-write).
 * A base is activated for the mount and deactivated again by `--umount`.
 */
export async function mountLayer(
  parts: AdminParts,
  request: { readonly name: string; readonly directory?: string | undefined; readonly readWrite: boolean },
  context: OperationContext,
): Promise<LayerMount> {
  validateVolumeName(request.name);
  const directory = request.directory ?? `${LAYER_MOUNT_DIR}/${request.name}`;
  if (!directory.startsWith('/')) throw new MountRefusedError(request.name, `${directory} is not an absolute path`);
  const mounts = required(parts.mounts, 'HostMounts');
  await parts.path.run('layer --mount', context, async (tx, report) => {
    const layout = requireLayout(report, tx.context);
    const base = layout.bases.find((b) => b.name === request.name);
    const layer = allLayers(layout).find((l) => l.name === request.name);
    const view = base ?? layer;
    if (!view)
      throw request.name.includes('+') ? new LayerNotFoundError(request.name) : new BaseNotFoundError(request.name);
    const root = await parts.host.mountedRoot(tx.context);
    const running = root.device && findByDevice(allLayers(layout), report, root.device);
    const isRunning = running && running.name === view.name;
    if (request.readWrite && base) throw new MountRefusedError(view.name, 'a base is read-only');
    if (request.readWrite && isRunning)
      throw new MountRefusedError(view.name, 'it is the running layer: change it at /');
    const table = await mounts.list(tx.context);
    const busy = table.findLast((m) => m.target === directory);
    if (busy) throw new MountRefusedError(view.name, `${busy.source} is mounted at ${directory} already`);
    const volume = report.volumes.find((v) => v.vg === layout.vg && v.name === view.name)!;
    if (!volume.active) {
      step(tx, 'activate', `Activating ${view.name}`);
      tx.onUndo(`deactivate ${view.name}`, (c) => parts.volumes.change(volume, { active: false }, c));
      await parts.volumes.change(volume, { active: true }, tx.context);
    }
    step(tx, 'mount', `Mounting ${view.name} at ${directory}${request.readWrite ? ' (read-write)' : ' (read-only)'}`);
    const source = isRunning ? '/' : volumePath(volume);
    await mounts.mount({ source, directory, readOnly: !request.readWrite, bind: Boolean(isRunning) }, tx.context);
  });
  return {
    dryRun: Boolean(context.dryRun),
    layer: request.name,
    directories: [directory],
    readOnly: !request.readWrite,
  };
}

/** `imgbase layer --umount NAME`: every mount of it (but `/`) comes off; a base is deactivated again. */
export async function unmountLayer(parts: AdminParts, name: string, context: OperationContext): Promise<LayerMount> {
  validateVolumeName(name);
  const mounts = required(parts.mounts, 'HostMounts');
  const directories: string[] = [];
  await parts.path.run('layer --umount', context, async (tx, report) => {
    const layout = requireLayout(report, tx.context);
    const base = layout.bases.find((b) => b.name === name);
    const view = base ?? allLayers(layout).find((l) => l.name === name);
    if (!view) throw name.includes('+') ? new LayerNotFoundError(name) : new BaseNotFoundError(name);
    const volume = report.volumes.find((v) => v.vg === layout.vg && v.name === name)!;
    const table = await mounts.list(tx.context);
    const own = table.filter((m) => m.target !== '/' && mountIsVolume(m, volume));
    if (own.length === 0) throw new NotMountedError(name);
    for (const mount of own.reverse()) {
      step(tx, 'umount', `Unmounting ${name} from ${mount.target}`);
      await mounts.unmount(mount.target, tx.context);
      directories.push(mount.target);
    }
    if (base && volume.active) {
      step(tx, 'deactivate', `Deactivating base ${name}`);
      await parts.volumes.change(volume, { active: false }, tx.context);
    }
  });
  return { dryRun: Boolean(context.dryRun), layer: name, directories, readOnly: true };
}
