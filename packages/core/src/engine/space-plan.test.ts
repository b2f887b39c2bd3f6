import { describe, expect, it } from 'vitest';
import type { ThinPool, VolumeGroup } from '../contracts/volume-manager.js';
import { NoSpaceError } from '../errors/index.js';
import { planGc } from './gc.js';
import {
  BOOT_ENTRY_BOUND_BYTES,
  CARRY_OVER_BOUND_BYTES,
  metadataNeededBytes,
  planSpace,
  type SpaceInput,
} from './space-plan.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const pool: ThinPool = {
  vg: 'onn',
  name: 'pool00',
  sizeBytes: 10 * GiB,
  dataPercent: 50,
  metadataPercent: 10,
  metadataSizeBytes: 64 * MiB,
  tags: [],
};
const group: VolumeGroup = { name: 'onn', tags: [], sizeBytes: 12 * GiB, freeBytes: 100 * MiB };
const input = (over: Partial<SpaceInput> = {}): SpaceInput => ({
  pool,
  group,
  image: { dataBytes: 1 * GiB, minimumDeviceBytes: 3 * GiB },
  sourceLayerBytes: 4 * GiB + 1,
  boot: { where: '/boot', freeBytes: 100 * MiB },
  gcFrees: [{ base: 'Old-1-0', freesBytes: GiB }],
  relief: { removable: [] },
  ...over,
});

function refusal(over: Partial<SpaceInput>): NoSpaceError {
  try {
    planSpace(input(over));
  } catch (error) {
    if (error instanceof NoSpaceError) return error;
    throw error;
  }
  throw new Error('planSpace did not refuse');
}

describe('planSpace', () => {
  it('needs the image, a bound for the carry-over, metadata and room for a kernel', () => {
    expect(planSpace(input())).toEqual({
      newVolumeBytes: 4 * GiB + MiB,
      imageDataBytes: GiB,
      carryOverBoundBytes: CARRY_OVER_BOUND_BYTES,
      needs: [
        { space: 'pool-data', where: 'onn/pool00', neededBytes: GiB + CARRY_OVER_BOUND_BYTES, freeBytes: 5 * GiB },
        {
          space: 'pool-metadata',
          where: 'onn/pool00',
          neededBytes: metadataNeededBytes(GiB),
          freeBytes: Math.floor(64 * MiB * 0.9),
        },
        { space: 'boot', where: '/boot', neededBytes: BOOT_ENTRY_BOUND_BYTES, freeBytes: 100 * MiB },
      ],
      metadataExtension: null,
      gcFrees: [{ base: 'Old-1-0', freesBytes: GiB }],
    });
  });

  it('makes the new volume as large as the image needs when that is more than the source layer', () => {
    expect(planSpace(input({ sourceLayerBytes: GiB })).newVolumeBytes).toBe(3 * GiB);
  });

  it('refuses pool data, naming need, free and relief', () => {
    const error = refusal({
      image: { dataBytes: 6 * GiB, minimumDeviceBytes: 6 * GiB },
      relief: { keep: { keep: 1, freesBytes: 2 * GiB }, removable: [{ base: 'Old-1-0', freesBytes: 2 * GiB }] },
    });
    expect(error.details).toEqual({
      space: 'pool-data',
      where: 'onn/pool00',
      neededBytes: 6 * GiB + CARRY_OVER_BOUND_BYTES,
      freeBytes: 5 * GiB,
      keep: { keep: 1, freesBytes: 2 * GiB },
      removable: [{ base: 'Old-1-0', freesBytes: 2 * GiB }],
    });
    expect(error.message).toBe(
      "Not enough data in onn/pool00: the update needs 6272 MiB, 5120 MiB is free (--keep 1 would free up to 2048 MiB; 'imgbase base --remove Old-1-0' would free up to 2048 MiB); nothing was changed",
    );
  });

  it('grows metadata to 1 GiB when the group has room for it and its spare', () => {
    const roomy = { ...group, freeBytes: 2 * GiB };
    expect(planSpace(input({ group: roomy })).metadataExtension).toEqual({ fromBytes: 64 * MiB, toBytes: GiB });
    const tight = { ...group, freeBytes: 2 * (GiB - 64 * MiB) - 1 };
    expect(planSpace(input({ group: tight })).metadataExtension).toBeNull();
  });

  it('grows metadata by what is short when 1 GiB does not fit, and refuses when nothing fits', () => {
    const full = { ...pool, metadataPercent: 99 };
    const plan = planSpace(input({ pool: full }));
    expect(plan.metadataExtension?.fromBytes).toBe(64 * MiB);
    expect(plan.metadataExtension!.toBytes).toBeGreaterThanOrEqual(
      64 * MiB + metadataNeededBytes(GiB) - 0.01 * 64 * MiB,
    );
    expect(plan.metadataExtension!.toBytes % MiB).toBe(0);
    const error = refusal({ pool: full, group: { ...group, freeBytes: 0 } });
    expect(error.details).toMatchObject({ space: 'pool-metadata' });
  });

  it('refuses a boot partition without room for a kernel, and skips the check when its space is unknown', () => {
    expect(refusal({ boot: { where: '/boot', freeBytes: MiB } }).details).toMatchObject({
      space: 'boot',
      where: '/boot',
    });
    expect(planSpace(input({ boot: undefined })).needs.map((n) => n.space)).toEqual(['pool-data', 'pool-metadata']);
  });

  it('checks an ESP mounted apart from /boot too when kernels are staged there, naming it', () => {
    const esp = { where: '/efi', freeBytes: 10 * MiB };
    const error = refusal({ esp });
    expect(error.details).toMatchObject({ space: 'boot', where: '/efi', freeBytes: 10 * MiB });
    expect(error.message).toMatch(/^Not enough space in \/efi: the update needs 64 MiB, 10 MiB is free/);
    const roomy = planSpace(input({ esp: { where: '/efi', freeBytes: 200 * MiB } }));
    expect(roomy.needs.slice(2)).toEqual([
      { space: 'boot', where: '/boot', neededBytes: BOOT_ENTRY_BOUND_BYTES, freeBytes: 100 * MiB },
      { space: 'boot', where: '/efi', neededBytes: BOOT_ENTRY_BOUND_BYTES, freeBytes: 200 * MiB },
    ]);
    // Its space is checked even when /boot's cannot be told.
    expect(refusal({ boot: undefined, esp }).details).toMatchObject({ where: '/efi' });
  });
});

describe('planGc', () => {
  const bases = (names: string[], pinned: string[] = []) =>
    names.map((name) => ({ name, pinned: pinned.includes(name) }));

  it('removes the oldest first until `keep` are left', () => {
    expect(planGc(bases(['A-1-0', 'A-2-0', 'A-3-0', 'A-4-0']), 2, ['A-4-0'])).toEqual({
      remove: ['A-1-0', 'A-2-0'],
      kept: ['A-3-0', 'A-4-0'],
    });
  });

  it('never removes a protected or pinned base, even when more are then kept', () => {
    expect(planGc(bases(['A-1-0', 'A-2-0', 'A-3-0'], ['A-2-0']), 1, ['A-1-0', 'A-3-0'])).toEqual({
      remove: [],
      kept: ['A-1-0', 'A-2-0', 'A-3-0'],
    });
    expect(planGc(bases(['A-1-0', 'A-2-0', 'A-3-0']), 2, [undefined, 'A-1-0', 'A-3-0']).remove).toEqual(['A-2-0']);
  });

  it('removes nothing when no more than `keep` exist', () => {
    expect(planGc(bases(['A-1-0', 'A-2-0']), 2, []).remove).toEqual([]);
  });
});
