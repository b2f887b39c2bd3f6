import type { MountEntry } from '../../contracts/host-admin.js';
import { type StorageReport, volumePath } from '../../contracts/volume-manager.js';
import {
  LayerNotFoundError,
  PathMountedError,
  VolumeExistsError,
  VolumeInUseError,
  VolumeNotFoundError,
} from '../../errors/index.js';
import type { OperationContext } from '../../events.js';
import type { VolumeChangeResult } from '../../layout/admin-schema.js';
import { allLayers, latestLayer } from '../../layout/layout.js';
import type { ChangeResult, LayerView, LayoutView } from '../../layout/schema.js';
import { Tags } from '../../layout/tags.js';
import { step } from '../change-path.js';
import { findByDevice, requireLayout } from '../layout-lookups.js';
import type { Transaction } from '../transaction.js';
import { mountIsVolume } from './host-state.js';
import { inLayer } from './in-layer.js';
import { type AdminParts, required } from './parts.js';
import { checkVolumePath, mountUnitName, mountUnitText, UNIT_DIR, volumeName, WANTS_DIR } from './volume-paths.js';

type Action = VolumeChangeResult['action'];

/** What every volume change knows once it runs under the lock. */
interface Scene {
  readonly tx: Transaction;
  readonly result: ChangeResult;
  readonly layout: LayoutView;
  readonly report: StorageReport;
  /** The layer whose /etc/systemd/system gets (or loses) the mount unit. */
  readonly target: LayerView;
  readonly running: LayerView | undefined;
  readonly mounts: readonly MountEntry[];
  readonly name: string;
  readonly device: string;
  readonly unit: string;
}

/**
 * `imgbase volume --create/--remove/--attach/--detach PATH`: the original's separate volumes. The
 * path is checked before anything else; each verb then runs on the change path (lock, recovery,
 * undo on failure), with the mount unit written into (or taken from) the layer the host runs from,
 * or the newest layer when it runs from none; later layers inherit it from there.
 */
export async function changeVolume(
  parts: AdminParts,
  action: Action,
  request: { readonly path: string; readonly sizeBytes?: number },
  context: OperationContext,
): Promise<VolumeChangeResult> {
  checkVolumePath(request.path);
  const path = request.path;
  const mounts = required(parts.mounts, 'HostMounts');
  const movedIn: string[] = [];
  let mountedNow = false;
  let where: { layer: string; unit: string; volume: string } | undefined;
  const result = await parts.path.change(`volume --${action}`, context, async (tx, report, result) => {
    const layout = requireLayout(report, tx.context);
    const root = await parts.host.mountedRoot(tx.context);
    const running = (root.device && findByDevice(allLayers(layout), report, root.device)) || undefined;
    const target = running ?? latestLayer(layout);
    if (!target) throw new LayerNotFoundError('(latest)');
    const name = volumeName(path);
    const scene: Scene = {
      tx,
      result,
      layout,
      report,
      target,
      running,
      mounts: await mounts.list(tx.context),
      name,
      device: volumePath({ vg: layout.vg, name }),
      unit: mountUnitName(path),
    };
    where = { layer: target.name, unit: scene.unit, volume: name };
    const existing = report.volumes.find((v) => v.vg === layout.vg && v.name === name);
    if (action === 'create') {
      if (existing) throw new VolumeExistsError(path, name);
      refuseForeignMount(scene, path);
      await create(parts, scene, path, request.sizeBytes!, movedIn);
    } else {
      if (!existing?.tags.includes(Tags.volume)) throw new VolumeNotFoundError(name);
      const inUse = scene.mounts.find((m) => mountIsVolume(m, existing));
      if (action === 'remove' && inUse) throw new VolumeInUseError(name, inUse.target);
      if (action === 'attach') refuseForeignMount(scene, path);
      if (action === 'attach') await writeUnit(parts, scene, path);
      else await removeUnit(parts, scene);
      if (action === 'remove') {
        await parts.steps.markForRemoval(tx, existing);
        await parts.steps.remove(tx, result, existing);
      }
    }
    mountedNow = await mountLive(
      parts,
      scene,
      path,
      action,
      Boolean(existing && scene.mounts.some((m) => m.target === path && mountIsVolume(m, existing))),
    );
  });
  return {
    ...result,
    action,
    path,
    volume: where!.volume,
    unit: where!.unit,
    layer: where!.layer,
    movedIn,
    mountedNow,
  };
}

/** A PATH with another device's file system mounted on it is refused (a mount of this very volume is not). */
function refuseForeignMount(scene: Scene, path: string): void {
  const mounted = scene.mounts.findLast((m) => m.target === path);
  const own = scene.report.volumes.find((v) => v.vg === scene.layout.vg && v.name === scene.name);
  if (mounted && !(own && mountIsVolume(mounted, own))) throw new PathMountedError(path, mounted.source);
}

async function create(parts: AdminParts, scene: Scene, path: string, sizeBytes: number, movedIn: string[]) {
  const { tx, layout } = scene;
  await parts.steps.createVolume(tx, scene.result, {
    kind: 'thin',
    vg: layout.vg,
    pool: layout.pool.name,
    name: scene.name,
    sizeBytes,
    tags: [Tags.volume, Tags.pending],
  });
  step(tx, 'mkfs', `Making an ${parts.filesystem.type} file system on ${scene.name}`);
  await parts.filesystem.create(scene.device, {}, tx.context);
  tx.checkpoint('volume --create');
  const files = required(parts.files, 'HostFiles');
  await inLayer(
    parts,
    scene.target,
    scene.running,
    false,
    async (root) => {
      const source = `${root}${path}`;
      if (tx.context.dryRun) {
        step(tx, 'move', `Would move what ${scene.target.name} holds at ${path} into ${scene.name}`);
      } else {
        await files.makeDirectory(source, tx.context);
        movedIn.push(...(await files.list(source, tx.context)).sort());
        step(tx, 'move', `Copying ${path} of ${scene.target.name} into ${scene.name}`);
        await parts.filesystem.withMounted(
          scene.device,
          { readOnly: false },
          (dir) => files.copyContents(source, dir, tx.context),
          tx.context,
        );
      }
      await writeUnitAt(parts, scene, path, root);
      if (tx.context.dryRun || movedIn.length === 0) return;
      tx.onUndo(`put ${path} of ${scene.target.name} back`, (c) =>
        parts.filesystem.withMounted(scene.device, { readOnly: true }, (dir) => files.copyContents(dir, source, c), c),
      );
      step(tx, 'move', `Removing what was moved from ${path} of ${scene.target.name}`);
      await files.clearDirectory(source, tx.context);
    },
    tx.context,
  );
}

function writeUnit(parts: AdminParts, scene: Scene, path: string): Promise<void> {
  return inLayer(
    parts,
    scene.target,
    scene.running,
    false,
    (root) => writeUnitAt(parts, scene, path, root),
    scene.tx.context,
  );
}

/** Writes the mount unit and its local-fs.target.wants link into the tree at `root`; undone by removing both. */
async function writeUnitAt(parts: AdminParts, scene: Scene, path: string, root: string): Promise<void> {
  const { tx, unit } = scene;
  if (tx.context.dryRun) {
    step(tx, 'unit', `Would write ${UNIT_DIR}/${unit} into ${scene.target.name}`);
    return;
  }
  const files = required(parts.files, 'HostFiles');
  step(tx, 'unit', `Writing ${UNIT_DIR}/${unit} into ${scene.target.name}`);
  tx.onUndo(`remove ${unit} from ${scene.target.name}`, (c) =>
    inLayer(
      parts,
      scene.target,
      scene.running,
      false,
      async (r) => {
        await files.remove(`${r}${WANTS_DIR}/${unit}`, c);
        await files.remove(`${r}${UNIT_DIR}/${unit}`, c);
      },
      c,
    ),
  );
  await files.writeText(`${root}${UNIT_DIR}/${unit}`, mountUnitText(path, scene.device), tx.context);
  await files.symlink(`${UNIT_DIR}/${unit}`, `${root}${WANTS_DIR}/${unit}`, tx.context);
}

/** Takes the mount unit out of the target layer; undone by putting it back as it was. */
async function removeUnit(parts: AdminParts, scene: Scene): Promise<void> {
  const { tx, unit } = scene;
  const files = required(parts.files, 'HostFiles');
  await inLayer(
    parts,
    scene.target,
    scene.running,
    false,
    async (root) => {
      const text = await files.readText(`${root}${UNIT_DIR}/${unit}`, tx.context);
      if (text === undefined) return;
      if (tx.context.dryRun) {
        step(tx, 'unit', `Would remove ${UNIT_DIR}/${unit} from ${scene.target.name}`);
        return;
      }
      step(tx, 'unit', `Removing ${UNIT_DIR}/${unit} from ${scene.target.name}`);
      tx.onUndo(`put ${unit} back into ${scene.target.name}`, (c) =>
        inLayer(
          parts,
          scene.target,
          scene.running,
          false,
          async (r) => {
            await files.writeText(`${r}${UNIT_DIR}/${unit}`, text, c);
            await files.symlink(`${UNIT_DIR}/${unit}`, `${r}${WANTS_DIR}/${unit}`, c);
          },
          c,
        ),
      );
      await files.remove(`${root}${WANTS_DIR}/${unit}`, tx.context);
      await files.remove(`${root}${UNIT_DIR}/${unit}`, tx.context);
    },
    tx.context,
  );
}

/**
 * On a host running from the target layer, the change takes effect now too: a created or attached
 * volume is mounted at PATH, a detached one unmounted (a removed one is never mounted). Returns
 * whether the running system's mounts changed.
 */
async function mountLive(
  parts: AdminParts,
  scene: Scene,
  path: string,
  action: Action,
  mountedThere: boolean,
): Promise<boolean> {
  const { tx } = scene;
  if (scene.running === undefined || scene.running.name !== scene.target.name || action === 'remove') return false;
  const mounts = required(parts.mounts, 'HostMounts');
  if (action === 'detach') {
    if (!mountedThere) return false;
    step(tx, 'mount', `Unmounting ${scene.name} from ${path}`);
    tx.onUndo(`mount ${scene.name} at ${path} again`, (c) =>
      mounts.mount({ source: scene.device, directory: path, readOnly: false, options: ['discard'] }, c),
    );
    await mounts.unmount(path, tx.context);
    return true;
  }
  if (mountedThere) return false;
  step(tx, 'mount', `Mounting ${scene.name} at ${path}`);
  tx.onUndo(`unmount ${path}`, (c) => mounts.unmount(path, c));
  await mounts.mount({ source: scene.device, directory: path, readOnly: false, options: ['discard'] }, tx.context);
  return !tx.context.dryRun;
}
