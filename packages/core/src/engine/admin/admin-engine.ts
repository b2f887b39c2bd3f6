import type { OperationContext } from '../../events.js';
import type {
  CheckReport,
  LayerDiff,
  LayerMount,
  Motd,
  RecoverResult,
  RecoveryList,
  Status,
  VolumeChangeResult,
  VolumeList,
} from '../../layout/admin-schema.js';
import { check } from './check.js';
import { type DiffRequest, diffLayers } from './layer-diff.js';
import { mountLayer, unmountLayer } from './layer-mounts.js';
import { motd } from './motd.js';
import type { AdminParts } from './parts.js';
import { listRecovery, recover } from './recover.js';
import { status } from './status.js';
import { changeVolume } from './volume-changes.js';
import { listVolumes } from './volume-list.js';

/**
 * The host administration verbs of the engine (ImageEngine extends this): status, check, motd,
 * separate volumes, recover, and looking into layers. Changing ones take the change path (lock,
 * recovery, undo on failure) and honour `context.dryRun`; reading ones take no lock.
 */
export abstract class AdminEngine {
  protected abstract readonly admin: AdminParts;

  /** The host at a glance: running layer, default and next boot, layers, last update, pool, warnings. */
  status(context: OperationContext = {}): Promise<Status> {
    return status(this.admin, context);
  }

  /** Bootloader, mount points, thin storage and leftovers judged; `exitCode` 0 ok, 1 degraded, 2 failed. */
  check(context: OperationContext = {}): Promise<CheckReport> {
    return check(this.admin, context);
  }

  /** The motd status line; with `update`, written to /etc/motd.d/ (under the lock). */
  motd(update: boolean, context: OperationContext = {}): Promise<Motd> {
    return motd(this.admin, update, context);
  }

  listVolumes(context: OperationContext = {}): Promise<VolumeList> {
    return listVolumes(this.admin, context);
  }

  /** A separate volume for `path`: the data there moved in, a mount unit in the running (or newest) layer. */
  createVolume(path: string, sizeBytes: number, context: OperationContext = {}): Promise<VolumeChangeResult> {
    return changeVolume(this.admin, 'create', { path, sizeBytes }, context);
  }

  /** Removes a separate volume (and its mount unit); refused while it is mounted. */
  removeVolume(path: string, context: OperationContext = {}): Promise<VolumeChangeResult> {
    return changeVolume(this.admin, 'remove', { path }, context);
  }

  attachVolume(path: string, context: OperationContext = {}): Promise<VolumeChangeResult> {
    return changeVolume(this.admin, 'attach', { path }, context);
  }

  detachVolume(path: string, context: OperationContext = {}): Promise<VolumeChangeResult> {
    return changeVolume(this.admin, 'detach', { path }, context);
  }

  /** What `recover --yes` would repair now: the automatic recovery's plan, a stale lock, missing entries. */
  async recoveryList(context: OperationContext = {}): Promise<RecoveryList> {
    return { steps: await listRecovery(this.admin, context) };
  }

  recover(context: OperationContext = {}): Promise<RecoverResult> {
    return recover(this.admin, context);
  }

  mountLayer(
    request: { readonly name: string; readonly directory?: string | undefined; readonly readWrite: boolean },
    context: OperationContext = {},
  ): Promise<LayerMount> {
    return mountLayer(this.admin, request, context);
  }

  unmountLayer(name: string, context: OperationContext = {}): Promise<LayerMount> {
    return unmountLayer(this.admin, name, context);
  }

  /** What differs between two layers (or a layer and its base). */
  diffLayers(request: DiffRequest, context: OperationContext = {}): Promise<LayerDiff> {
    return diffLayers(this.admin, request, context);
  }
}
