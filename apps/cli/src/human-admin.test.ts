import type { Status } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { statusShown } from './human-admin.js';

const status: Status = {
  running: 'Base-2-0+1',
  rootSource: '/dev/mapper/onn-Base--2--0+1',
  bootloader: 'grub2',
  defaultBoot: { entry: 'imgbased-Base-2-0+1', layer: 'Base-2-0+1' },
  nextBoot: null,
  layers: [{ name: 'Base-2-0+1', base: 'Base-2-0', running: true, entries: 1, bootsByDefault: true, bootsNext: false }],
  lastUpdate: { base: 'Base-2-0', layer: 'Base-2-0+1', pinned: false },
  lastUpdateRecord: null,
  pool: {
    name: 'onn/pool00',
    sizeBytes: 10 * 1024 ** 3,
    freeBytes: 5 * 1024 ** 3,
    dataPercent: 50,
    metadataPercent: 10,
  },
  health: 'ok',
  warnings: [],
};

describe('imgbase status, human', () => {
  it('shows the update record under the last update: when, which image, the carry-over, GC', () => {
    const human = statusShown({
      ...status,
      lastUpdateRecord: {
        time: '2026-11-30T10:00:00.000Z',
        image: { given: 'https://example.org/Base-2-0.img', format: 'squashfs', sha256: 'ab'.repeat(32) },
        base: 'Base-2-0',
        layer: 'Base-2-0+1',
        from: 'Base-1-0+1',
        carryOver: [{ plugin: 'tar-diff', copied: 3, merged: 2, keptFromNewBase: 1, deleted: 0, conflicts: 1 }],
        gcRemoved: ['Base-0-9'],
      },
    }).human;
    expect(human).toContain(
      'Last update: Base-2-0 (first layer Base-2-0+1)\n' +
        `  made Base-2-0+1 at 2026-11-30T10:00:00.000Z from https://example.org/Base-2-0.img (squashfs, sha256 ${'ab'.repeat(32)})\n` +
        '  carried over from Base-1-0+1: tar-diff: 3 copied, 2 merged, 1 kept from the new base, 0 deleted, 1 conflicts\n' +
        '  removed by GC: Base-0-9\n',
    );
  });

  it('shows no record lines without a record', () => {
    const human = statusShown(status).human;
    expect(human).toContain('Last update: Base-2-0 (first layer Base-2-0+1)\nThin pool:');
  });
});
