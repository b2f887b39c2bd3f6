import type { FilesystemDriver } from '../contracts/filesystem.js';
import type { HostInfo } from '../contracts/host.js';
import {
  type CreateVolumeRequest,
  type StorageReport,
  type ThinVolume,
  type VolumeManager,
  type VolumeRef,
  volumePath,
} from '../contracts/volume-manager.js';
import { NoThinPoolError, VolumeNotFoundError } from '../errors/index.js';
import type { OperationContext } from '../events.js';
import type { ChangeResult } from '../layout/schema.js';
import { Tags } from '../layout/tags.js';
import { step } from './change-path.js';
import { findVolumeByDevice } from './layout-lookups.js';
import type { Transaction } from './transaction.js';

/** The volume steps the lifecycle verbs are made of, each registering its own undo and commit. */
export class VolumeSteps {
  constructor(
    private readonly volumes: VolumeManager,
    private readonly filesystem: FilesystemDriver,
    private readonly host: HostInfo,
  ) {}

  /** Creates a volume tagged pending: removed on undo, settled (pending tag dropped) at commit. */
  async createVolume(tx: Transaction, result: ChangeResult, request: CreateVolumeRequest): Promise<void> {
    tx.checkpoint('create');
    step(
      tx,
      'create',
      `Creating ${request.kind === 'snapshot' ? `${request.name} from ${request.origin}` : request.name}`,
    );
    await this.volumes.create(request, tx.context);
    result.created.push(request.name);
    tx.onUndo(`remove ${request.name}`, (c) => this.volumes.remove(request, c));
    tx.onCommit(`settle ${request.name}`, (c) => this.volumes.change(request, { removeTags: [Tags.pending] }, c));
  }

  /** Bases are read-only and skipped at activation, as in the original. */
  async protectBase(tx: Transaction, ref: VolumeRef): Promise<void> {
    step(tx, 'protect', `Protecting base ${ref.name} (read-only, activation skip)`);
    await this.volumes.change(ref, { readOnly: true, activationSkip: true, active: false }, tx.context);
  }

  /** A writable, active snapshot of `source` with a file system UUID of its own. */
  async makeLayer(tx: Transaction, result: ChangeResult, source: VolumeRef, name: string): Promise<void> {
    await this.createVolume(tx, result, {
      kind: 'snapshot',
      vg: source.vg,
      origin: source.name,
      name,
      tags: [Tags.layer, Tags.pending],
    });
    const ref = { vg: source.vg, name };
    await this.volumes.change(ref, { readOnly: false, activationSkip: false, active: true }, tx.context);
    tx.checkpoint('layer');
    step(tx, 'uuid', `Giving ${name} a file system UUID of its own`);
    await this.filesystem.regenerateUuid(volumePath(ref), tx.context);
  }

  async addTags(tx: Transaction, target: VolumeRef, tags: string[]): Promise<void> {
    await this.volumes.change(target, { addTags: tags }, tx.context);
    tx.onUndo(`untag ${target.name}`, (c) => this.volumes.change(target, { removeTags: tags }, c));
  }

  /** Tags a volume group; untagged again on undo. */
  async tagGroup(tx: Transaction, vg: string, tags: string[]): Promise<void> {
    await this.volumes.changeGroup(vg, { addTags: tags }, tx.context);
    tx.onUndo(`untag ${vg}`, (c) => this.volumes.changeGroup(vg, { removeTags: tags }, c));
  }

  /** Drops the group's pending tag at commit: the last step of `layout --init`. */
  settleGroup(tx: Transaction, vg: string): void {
    tx.onCommit(`settle ${vg}`, (c) => this.volumes.changeGroup(vg, { removeTags: [Tags.pending] }, c));
  }

  /**
   * Tags a volume pending before it is removed: from then on a kill leaves it to recovery, which
   * finishes the removal (its boot entry first). Untagged on undo while it is still there.
   */
  async markForRemoval(tx: Transaction, ref: VolumeRef): Promise<void> {
    step(tx, 'mark', `Marking ${ref.name} for removal`);
    tx.onUndo(`unmark ${ref.name}`, async (c) => {
      const report = await this.volumes.report(c);
      if (report.volumes.some((v) => v.vg === ref.vg && v.name === ref.name)) {
        await this.volumes.change(ref, { removeTags: [Tags.pending] }, c);
      }
    });
    await this.volumes.change(ref, { addTags: [Tags.pending] }, tx.context);
  }

  /** Removes a volume for good (not undone: callers order removals so every stop leaves a valid layout). */
  async remove(tx: Transaction, result: ChangeResult, ref: VolumeRef): Promise<void> {
    await this.volumes.remove(ref, tx.context);
    result.removed.push(ref.name);
  }

  /** The volume `layout --init --from` names: `@tag`, `VG/LV`, `/dev/VG/LV`, or a mounted path. */
  async resolveSource(from: string, report: StorageReport, context: OperationContext): Promise<ThinVolume> {
    const candidates = report.volumes;
    let found: ThinVolume[];
    if (from.startsWith('@')) {
      found = candidates.filter((v) => v.tags.includes(from.slice(1)));
    } else if (from.startsWith('/dev/') || /^[^/]+\/[^/]+$/.test(from)) {
      const [vg, name] = from.replace(/^\/dev\//, '').split('/');
      found = candidates.filter((v) => v.vg === vg && v.name === name);
    } else if (from.startsWith('/')) {
      const mounted = await this.host.deviceOfMount(from, context);
      const match = mounted.device && findVolumeByDevice(candidates, mounted.device);
      if (!match) throw new NoThinPoolError(`${from} (${mounted.source})`);
      found = [match];
    } else {
      found = [];
    }
    if (found.length !== 1) throw new VolumeNotFoundError(from);
    return found[0]!;
  }
}
