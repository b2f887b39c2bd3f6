import type { ThinPool, ThinVolume, VolumeGroup } from '../contracts/volume-manager.js';
import { NoSpaceError, type SpaceRelief } from '../errors/index.js';
import type { BaseView } from '../layout/schema.js';
import type { SpaceNeed, SpacePlan } from '../layout/update-schema.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * Room kept in the pool for the admin's state carried into the new layer. A bound, not a measure:
 * the old layer is not read before the plan (that would mean mounting it before anything is decided).
 */
export const CARRY_OVER_BOUND_BYTES = 128 * MiB;
/** Room a new layer's kernel and initrd take on the boot partition (a bound: the files are not read yet). */
export const BOOT_ENTRY_BOUND_BYTES = 64 * MiB;
/** The size the original grew pool metadata to, when the volume group has room. */
export const METADATA_TARGET_BYTES = GiB;

/** Thin metadata an install maps: about 16 bytes per 64 KiB chunk, doubled for the btrees, plus slack. */
export function metadataNeededBytes(dataBytes: number): number {
  return Math.ceil(dataBytes / 2048) + MiB;
}

/** What removing a base gives back at most: its volumes' mapped data (their virtual size while unknown). */
export function baseFreesBytes(base: BaseView, volumes: readonly ThinVolume[]): number {
  const names = new Set([base.name, ...base.layers.map((l) => l.name)]);
  return volumes
    .filter((v) => names.has(v.name))
    .reduce(
      (sum, v) => sum + (v.dataPercent === undefined ? v.sizeBytes : Math.ceil((v.sizeBytes * v.dataPercent) / 100)),
      0,
    );
}

export interface SpaceInput {
  readonly pool: ThinPool;
  readonly group: VolumeGroup;
  readonly image: { readonly dataBytes: number; readonly minimumDeviceBytes: number };
  /** The virtual size of the layer whose state is carried over: the new base is made at least as large. */
  readonly sourceLayerBytes: number;
  /** The boot partition (or ESP) kernels go to, when its free space can be told. */
  readonly boot?: { readonly where: string; readonly freeBytes: number } | undefined;
  /**
   * The ESP, when the bootloader stages kernels there and it is mounted apart from `boot`
   * (systemd-boot with the ESP on /efi or /boot/efi): checked as well, under its own name.
   */
  readonly esp?: { readonly where: string; readonly freeBytes: number } | undefined;
  /** What garbage collection removes after this update. */
  readonly gcFrees: readonly { readonly base: string; readonly freesBytes: number }[];
  /** What could be freed by hand: `--keep 1`, and each removable base. */
  readonly relief: SpaceRelief;
}

/** 1 MiB multiples: LVM rounds sizes up to its extents anyway. */
function roundUpMiB(bytes: number): number {
  return Math.ceil(bytes / MiB) * MiB;
}

/**
 * The space an update needs, per pool and partition, and the metadata growth it plans. Pure; throws
 * NoSpaceError (naming the space, what is needed, what is free and what could be freed) when the
 * update cannot fit, so that nothing is made.
 */
export function planSpace(input: SpaceInput): SpacePlan {
  const { pool, group, image } = input;
  const where = `${pool.vg}/${pool.name}`;
  const dataNeeded = image.dataBytes + CARRY_OVER_BOUND_BYTES;
  const dataFree = Math.floor(pool.sizeBytes * (1 - pool.dataPercent / 100));
  const needs: SpaceNeed[] = [{ space: 'pool-data', where, neededBytes: dataNeeded, freeBytes: dataFree }];
  if (dataNeeded > dataFree) throw new NoSpaceError('pool-data', where, dataNeeded, dataFree, input.relief);

  const metaNeeded = metadataNeededBytes(image.dataBytes);
  const metaFree = Math.floor(pool.metadataSizeBytes * (1 - pool.metadataPercent / 100));
  let metadataExtension: SpacePlan['metadataExtension'] = null;
  // LVM grows the spare metadata volume with the pool's: twice the growth comes out of the group.
  const fits = (toBytes: number) => 2 * (toBytes - pool.metadataSizeBytes) <= group.freeBytes;
  if (pool.metadataSizeBytes < METADATA_TARGET_BYTES && fits(METADATA_TARGET_BYTES)) {
    metadataExtension = { fromBytes: pool.metadataSizeBytes, toBytes: METADATA_TARGET_BYTES };
  } else if (metaNeeded > metaFree) {
    const toBytes = roundUpMiB(pool.metadataSizeBytes + (metaNeeded - metaFree));
    if (!fits(toBytes)) {
      needs.push({ space: 'pool-metadata', where, neededBytes: metaNeeded, freeBytes: metaFree });
      throw new NoSpaceError('pool-metadata', where, metaNeeded, metaFree, input.relief);
    }
    metadataExtension = { fromBytes: pool.metadataSizeBytes, toBytes };
  }
  const metaFreeAfter = metadataExtension
    ? metaFree + (metadataExtension.toBytes - metadataExtension.fromBytes)
    : metaFree;
  needs.push({ space: 'pool-metadata', where, neededBytes: metaNeeded, freeBytes: metaFreeAfter });

  for (const partition of [input.boot, input.esp]) {
    if (partition === undefined) continue;
    const { where: bootWhere, freeBytes } = partition;
    needs.push({ space: 'boot', where: bootWhere, neededBytes: BOOT_ENTRY_BOUND_BYTES, freeBytes });
    if (BOOT_ENTRY_BOUND_BYTES > freeBytes) {
      throw new NoSpaceError('boot', bootWhere, BOOT_ENTRY_BOUND_BYTES, freeBytes, input.relief);
    }
  }

  return {
    newVolumeBytes: roundUpMiB(Math.max(image.minimumDeviceBytes, input.sourceLayerBytes)),
    imageDataBytes: image.dataBytes,
    carryOverBoundBytes: CARRY_OVER_BOUND_BYTES,
    needs,
    metadataExtension,
    gcFrees: input.gcFrees.map((g) => ({ ...g })),
  };
}
