import { beforeEach, describe, expect, it } from 'vitest';
import { LAST_UPDATE_RECORD_PATH, UpdateRecordSchema } from '../layout/update-record-schema.js';
import { adminHost, MemoryFiles, runFrom, updateHost } from '../testing/index.js';
import { ImageEngine } from './engine.js';

let h: Awaited<ReturnType<typeof updateHost>>;
let files: MemoryFiles;
// The fake file system mounts every volume at /mnt/fake.
const inNewLayer = `/mnt/fake${LAST_UPDATE_RECORD_PATH}`;
const engine = () =>
  new ImageEngine(
    h.volumes,
    h.filesystem,
    h.host,
    h.lock,
    h.boot,
    h.selection,
    h.images,
    h.images,
    h.config,
    undefined,
    files,
  );

beforeEach(async () => {
  h = await updateHost();
  files = new MemoryFiles();
});

describe('the update record', () => {
  it('is written into the new layer, read-write mounted, after the carry-over and GC', async () => {
    await engine().update({ image: '/images/Base-2-0.img' });
    expect(h.filesystem.mounts.at(-1)).toEqual({ device: '/dev/onn/Base-2-0+1', readOnly: false });
    expect(files.log).toEqual([`write ${inNewLayer}`]);
    const record = UpdateRecordSchema.parse(JSON.parse(files.files.get(inNewLayer)!));
    expect(record).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      image: { given: '/images/Base-2-0.img', format: 'ext4', sha256: null },
      base: 'Base-2-0',
      layer: 'Base-2-0+1',
      from: 'Base-1-0+1',
      carryOver: [{ plugin: 'tar-diff', copied: 1, merged: 1, keptFromNewBase: 1, deleted: 0, conflicts: 0 }],
      gcRemoved: [],
    });
    expect(Math.abs(Date.parse(record.time) - Date.now())).toBeLessThan(60_000);
  });

  it('names the bases GC removed', async () => {
    h.volumes.groups[0]!.freeBytes = 8 * 1024 ** 3;
    await engine().update({ image: '/images/Base-2-0.img' });
    runFrom(h.host, h.volumes, 'Base-2-0+1');
    h.images.add('/images/Base-3-0.img', 'Base-3-0');
    files = new MemoryFiles();
    await engine().update({ image: '/images/Base-3-0.img' });
    const record = UpdateRecordSchema.parse(JSON.parse(files.files.get(inNewLayer)!));
    expect(record).toMatchObject({ base: 'Base-3-0', from: 'Base-2-0+1', gcRemoved: ['Base-1-0'] });
  });

  it('is not written by a dry run', async () => {
    await engine().update({ image: '/images/Base-2-0.img' }, { dryRun: true });
    expect(files.log).toEqual([]);
  });

  it('is not left by a failed update: a failure before it writes none, one after it removes the layer that holds it', async () => {
    h.boot.failNext = { method: 'writeEntries', error: new Error('boot partition full') };
    await expect(engine().update({ image: '/images/Base-2-0.img' })).rejects.toThrow();
    expect(files.log).toEqual([]);
    expect(h.volumes.find('Base-2-0+1')).toBeUndefined();

    h.boot.failNext = { method: 'setDefault', error: new Error('boot partition full') };
    await expect(engine().update({ image: '/images/Base-2-0.img' })).rejects.toThrow();
    expect(files.log).toEqual([`write ${inNewLayer}`]);
    expect(h.volumes.find('Base-2-0+1')).toBeUndefined();
  });

  it('fails the update when it cannot be written, and the new layer goes', async () => {
    files.writeText = async () => {
      throw new Error('no space left on device');
    };
    await expect(engine().update({ image: '/images/Base-2-0.img' })).rejects.toThrow();
    expect(h.volumes.find('Base-2-0')).toBeUndefined();
    expect(h.volumes.find('Base-2-0+1')).toBeUndefined();
  });
});

describe('imgbase status: the last update record', () => {
  it('shows the record of the running root; null when there is none or it is not a record', async () => {
    const a = await adminHost();
    expect((await a.engine().status()).lastUpdateRecord).toBeNull();
    const record = {
      time: '2026-11-30T10:00:00.000Z',
      image: { given: 'https://example.org/Base-2-0.img', format: 'squashfs', sha256: 'ab'.repeat(32) },
      base: 'Base-2-0',
      layer: 'Base-2-0+1',
      from: 'Base-1-0+1',
      carryOver: [{ plugin: 'tar-diff', copied: 3, merged: 2, keptFromNewBase: 1, deleted: 0, conflicts: 1 }],
      gcRemoved: ['Base-0-9'],
    };
    a.files.files.set(LAST_UPDATE_RECORD_PATH, JSON.stringify(record));
    expect((await a.engine().status()).lastUpdateRecord).toEqual(record);
    a.files.files.set(LAST_UPDATE_RECORD_PATH, '{"time": 1');
    expect((await a.engine().status()).lastUpdateRecord).toBeNull();
    a.files.files.set(LAST_UPDATE_RECORD_PATH, JSON.stringify({ ...record, base: undefined }));
    expect((await a.engine().status()).lastUpdateRecord).toBeNull();
  });
});
