import type { OperationContext } from '../events.js';

export interface VolumeRef {
  readonly vg: string;
  readonly name: string;
}

export interface ThinVolume extends VolumeRef {
  /** /dev/VG/LV */
  readonly path: string;
  readonly sizeBytes: number;
  readonly tags: readonly string[];
  /** Thin pool the volume lives in; undefined for a volume that is not thin. */
  readonly pool: string | undefined;
  /** Volume this one is a snapshot of, if any. */
  readonly origin: string | undefined;
  readonly readOnly: boolean;
  readonly activationSkip: boolean;
  readonly active: boolean;
  /** Kernel device numbers while active, to match a mounted root against a volume. */
  readonly device: { readonly major: number; readonly minor: number } | undefined;
  readonly segmentType: string;
  /** A thin volume's mapped share of its size, in percent, while active; undefined when not told. */
  readonly dataPercent?: number | undefined;
}

export interface ThinPool extends VolumeRef {
  readonly sizeBytes: number;
  readonly dataPercent: number;
  readonly metadataPercent: number;
  readonly metadataSizeBytes: number;
  readonly tags: readonly string[];
}

export interface VolumeGroup {
  readonly name: string;
  readonly tags: readonly string[];
  readonly sizeBytes: number;
  readonly freeBytes: number;
}

/** Everything imgbased needs to know about the host's LVM, read in one go. */
export interface StorageReport {
  readonly groups: readonly VolumeGroup[];
  readonly pools: readonly ThinPool[];
  readonly volumes: readonly ThinVolume[];
}

export type CreateVolumeRequest =
  | {
      readonly kind: 'thin';
      readonly vg: string;
      readonly pool: string;
      readonly name: string;
      readonly sizeBytes: number;
      readonly tags: readonly string[];
    }
  | {
      readonly kind: 'snapshot';
      readonly vg: string;
      readonly origin: string;
      readonly name: string;
      readonly tags: readonly string[];
    };

export interface VolumeChange {
  readonly addTags?: readonly string[];
  readonly removeTags?: readonly string[];
  readonly readOnly?: boolean;
  readonly activationSkip?: boolean;
  /** Activate (ignoring activation skip) or deactivate. */
  readonly active?: boolean;
}

/**
 * The volume manager: LVM thin in practice. Small on purpose; the engine composes these.
 * A volume group is changed by giving a VolumeRef whose name is empty.
 */
export interface VolumeManager {
  /** One listing of every group, thin pool and logical volume. */
  report(context?: OperationContext): Promise<StorageReport>;
  create(request: CreateVolumeRequest, context?: OperationContext): Promise<void>;
  change(target: VolumeRef, change: VolumeChange, context?: OperationContext): Promise<void>;
  changeGroup(
    vg: string,
    change: Pick<VolumeChange, 'addTags' | 'removeTags'>,
    context?: OperationContext,
  ): Promise<void>;
  remove(target: VolumeRef, context?: OperationContext): Promise<void>;
  /**
   * Grows a thin pool's metadata volume to `sizeBytes` (from the volume group's free space; LVM grows
   * the spare metadata volume with it). Metadata never shrinks: an update does not undo this.
   */
  extendPoolMetadata(pool: VolumeRef, sizeBytes: number, context?: OperationContext): Promise<void>;
  /**
   * LVM's thin pool autoextension (`activation/thin_pool_autoextend_threshold` and `_percent`):
   * a threshold of 100 turns it off. Optional: without it, `imgbase check` cannot tell.
   */
  poolAutoextend?(context?: OperationContext): Promise<{ readonly threshold: number; readonly percent: number }>;
}
export const VolumeManager = Symbol.for('imgbased.VolumeManager');

export function volumePath(ref: VolumeRef): string {
  return `/dev/${ref.vg}/${ref.name}`;
}
