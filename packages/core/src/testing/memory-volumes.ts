import type {
  CreateVolumeRequest,
  StorageReport,
  ThinPool,
  ThinVolume,
  VolumeChange,
  VolumeGroup,
  VolumeManager,
  VolumeRef,
} from '../contracts/volume-manager.js';
import { InternalError } from '../errors/index.js';
import type { OperationContext } from '../events.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer U)[] ? U[] : T[K] };

/**
 * An in-memory volume manager for the engine's unit tests: it keeps LVM's state as plain data and
 * refuses what LVM refuses (duplicate names, unknown origins). Proves nothing about LVM itself.
 */
export class MemoryVolumeManager implements VolumeManager {
  readonly groups: Mutable<VolumeGroup>[] = [];
  readonly pools: Mutable<ThinPool>[] = [];
  readonly volumes: Mutable<ThinVolume>[] = [];
  readonly log: string[] = [];
  private nextMinor = 10;
  /** Makes the next call of this operation fail, to test undo paths. */
  failNext:
    | { operation: 'create' | 'change' | 'remove' | 'changeGroup' | 'extendPoolMetadata'; error: Error }
    | undefined;

  /** A group with a thin pool and a thin root volume, as `autopart --type=thinp` leaves a host. */
  static thinpHost(vg = 'onn'): MemoryVolumeManager {
    const manager = new MemoryVolumeManager();
    manager.groups.push({ name: vg, tags: [], sizeBytes: 20 * 2 ** 30, freeBytes: 2 * 2 ** 30 });
    manager.pools.push({
      vg,
      name: 'pool00',
      sizeBytes: 16 * 2 ** 30,
      dataPercent: 25,
      metadataPercent: 5,
      metadataSizeBytes: 2 ** 27,
      tags: [],
    });
    manager.addVolume({ vg, name: 'root', pool: 'pool00', sizeBytes: 2 ** 30, active: true });
    return manager;
  }

  addVolume(volume: Partial<ThinVolume> & VolumeRef): Mutable<ThinVolume> {
    const full: Mutable<ThinVolume> = {
      path: `/dev/${volume.vg}/${volume.name}`,
      sizeBytes: 2 ** 30,
      tags: [],
      pool: undefined,
      origin: undefined,
      readOnly: false,
      activationSkip: false,
      active: false,
      device: undefined,
      segmentType: volume.pool ? 'thin' : 'linear',
      ...volume,
    } as Mutable<ThinVolume>;
    full.tags = [...(volume.tags ?? [])];
    if (full.active && !full.device) full.device = { major: 253, minor: this.nextMinor++ };
    this.volumes.push(full);
    return full;
  }

  find(name: string): Mutable<ThinVolume> | undefined {
    return this.volumes.find((v) => v.name === name);
  }

  /** A copy of the whole state, to assert that a failed operation changed nothing. */
  snapshot(): string {
    return JSON.stringify({ groups: this.groups, pools: this.pools, volumes: this.volumes });
  }

  async report(_context?: OperationContext): Promise<StorageReport> {
    return structuredClone({ groups: this.groups, pools: this.pools, volumes: this.volumes });
  }

  async create(request: CreateVolumeRequest, _context?: OperationContext): Promise<void> {
    this.maybeFail('create');
    if (this.volumes.some((v) => v.vg === request.vg && v.name === request.name)) {
      throw new InternalError(`Logical Volume "${request.name}" already exists in volume group "${request.vg}"`);
    }
    this.log.push(`create ${request.kind} ${request.vg}/${request.name}`);
    if (request.kind === 'thin') {
      this.addVolume({
        vg: request.vg,
        name: request.name,
        pool: request.pool,
        sizeBytes: request.sizeBytes,
        tags: [...request.tags],
        active: true,
      });
    } else {
      const origin = this.find(request.origin);
      if (!origin) throw new InternalError(`no origin ${request.origin}`);
      this.addVolume({
        vg: request.vg,
        name: request.name,
        pool: origin.pool,
        sizeBytes: origin.sizeBytes,
        origin: origin.name,
        tags: [...request.tags],
        activationSkip: true,
      });
    }
  }

  async change(target: VolumeRef, change: VolumeChange, _context?: OperationContext): Promise<void> {
    this.maybeFail('change');
    const volume = this.find(target.name) ?? this.pools.find((p) => p.name === target.name);
    if (!volume) throw new InternalError(`no volume ${target.name}`);
    this.log.push(`change ${target.vg}/${target.name} ${JSON.stringify(change)}`);
    volume.tags = [...volume.tags.filter((t) => !change.removeTags?.includes(t)), ...(change.addTags ?? [])];
    if ('readOnly' in volume) {
      if (change.readOnly !== undefined) volume.readOnly = change.readOnly;
      if (change.activationSkip !== undefined) volume.activationSkip = change.activationSkip;
      if (change.active !== undefined) {
        volume.active = change.active;
        volume.device = change.active ? { major: 253, minor: this.nextMinor++ } : undefined;
      }
    }
  }

  async changeGroup(
    vg: string,
    change: Pick<VolumeChange, 'addTags' | 'removeTags'>,
    _context?: OperationContext,
  ): Promise<void> {
    this.maybeFail('changeGroup');
    const group = this.groups.find((g) => g.name === vg);
    if (!group) throw new InternalError(`no group ${vg}`);
    this.log.push(`changeGroup ${vg} ${JSON.stringify(change)}`);
    group.tags = [...group.tags.filter((t) => !change.removeTags?.includes(t)), ...(change.addTags ?? [])];
  }

  async remove(target: VolumeRef, _context?: OperationContext): Promise<void> {
    this.maybeFail('remove');
    const index = this.volumes.findIndex((v) => v.vg === target.vg && v.name === target.name);
    if (index < 0) throw new InternalError(`no volume ${target.name}`);
    this.log.push(`remove ${target.vg}/${target.name}`);
    this.volumes.splice(index, 1);
  }

  async extendPoolMetadata(pool: VolumeRef, sizeBytes: number, _context?: OperationContext): Promise<void> {
    this.maybeFail('extendPoolMetadata');
    const found = this.pools.find((p) => p.vg === pool.vg && p.name === pool.name);
    const group = this.groups.find((g) => g.name === pool.vg);
    if (!found || !group) throw new InternalError(`no pool ${pool.vg}/${pool.name}`);
    const grow = sizeBytes - found.metadataSizeBytes;
    // LVM grows the spare metadata volume too: twice the growth comes out of the group.
    if (grow <= 0 || 2 * grow > group.freeBytes)
      throw new InternalError(`cannot grow ${pool.name} metadata by ${grow}`);
    this.log.push(`extendPoolMetadata ${pool.vg}/${pool.name} ${sizeBytes}`);
    found.metadataPercent = (found.metadataPercent * found.metadataSizeBytes) / sizeBytes;
    found.metadataSizeBytes = sizeBytes;
    group.freeBytes -= 2 * grow;
  }

  private maybeFail(operation: NonNullable<MemoryVolumeManager['failNext']>['operation']): void {
    if (this.failNext?.operation === operation) {
      const { error } = this.failNext;
      this.failNext = undefined;
      throw error;
    }
  }
}
