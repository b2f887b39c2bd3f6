import { beforeEach, describe, expect, it } from 'vitest';
import { ImageInvalidError } from '../errors/index.js';
import type { EngineEvent } from '../events.js';
import { Tags } from '../layout/tags.js';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '../testing/index.js';
import { ImageEngine } from './engine.js';

let volumes: MemoryVolumeManager;
let filesystem: RecordingFilesystem;
let host: FixedHost;
let lock: MemoryLock;

function engine(): ImageEngine {
  return new ImageEngine(volumes, filesystem, host, lock);
}

beforeEach(() => {
  volumes = MemoryVolumeManager.thinpHost();
  filesystem = new RecordingFilesystem();
  host = new FixedHost();
  lock = new MemoryLock();
});

async function initialised(): Promise<ImageEngine> {
  const e = engine();
  await e.initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  return e;
}

describe('layout --init', () => {
  it('tags the group, pool and root, and makes a protected base with a first layer', async () => {
    const result = await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
    expect(result).toMatchObject({ dryRun: false, created: ['Base-1-0', 'Base-1-0+1'], removed: [], recovered: [] });
    expect(volumes.groups[0]!.tags).toEqual([Tags.group]);
    expect(volumes.pools[0]!.tags).toEqual([Tags.pool]);
    expect(volumes.find('root')!.tags).toEqual([Tags.init]);
    expect(volumes.find('Base-1-0')).toMatchObject({
      origin: 'root',
      readOnly: true,
      activationSkip: true,
      active: false,
      tags: [Tags.base],
    });
    expect(volumes.find('Base-1-0+1')).toMatchObject({
      origin: 'Base-1-0',
      readOnly: false,
      activationSkip: false,
      active: true,
      tags: [Tags.layer],
    });
    expect(filesystem.calls).toEqual(['regenerateUuid /dev/onn/Base-1-0+1']);
    expect(lock.purposes).toEqual(['layout --init']);
    expect(lock.holder).toBeUndefined();
  });

  it('finds the source volume mounted at / by its device numbers', async () => {
    host.root = { source: '/dev/mapper/onn-root', device: volumes.find('root')!.device };
    await engine().initLayout({ nvr: 'Base-1-0' });
    expect(volumes.find('Base-1-0')!.origin).toBe('root');
  });

  it('refuses a second init and changes nothing', async () => {
    const e = await initialised();
    const before = volumes.snapshot();
    await expect(e.initLayout({ nvr: 'Other-1-0', from: 'onn/root' })).rejects.toMatchObject({
      code: 'E_LAYOUT_EXISTS',
    });
    expect(volumes.snapshot()).toBe(before);
  });

  it('refuses a source outside a thin pool', async () => {
    volumes.addVolume({ vg: 'onn', name: 'plain', active: true });
    const before = volumes.snapshot();
    await expect(engine().initLayout({ nvr: 'Base-1-0', from: '/dev/onn/plain' })).rejects.toMatchObject({
      code: 'E_NO_THIN_POOL',
    });
    expect(volumes.snapshot()).toBe(before);
  });

  it.each(['onn/nothing', '@no-such-tag', 'garbage'])('refuses an unknown source %j', async (from) => {
    await expect(engine().initLayout({ nvr: 'Base-1-0', from })).rejects.toMatchObject({ code: 'E_VOLUME_NOT_FOUND' });
    expect(volumes.log).toEqual([]);
  });

  it('rejects a bad NVR before touching anything', async () => {
    await expect(engine().initLayout({ nvr: 'Base 1', from: 'onn/root' })).rejects.toMatchObject({
      code: 'E_NAME_INVALID',
    });
    expect(volumes.log).toEqual([]);
    expect(lock.purposes).toEqual([]);
  });

  it('undoes every step when the layer cannot get its UUID', async () => {
    const before = volumes.snapshot();
    filesystem.fail = { method: 'regenerateUuid', error: new Error('tune2fs exploded') };
    await expect(engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' })).rejects.toThrow('tune2fs exploded');
    expect(volumes.snapshot()).toBe(before);
  });
});

describe('base --add / --remove', () => {
  it('makes an empty protected base', async () => {
    const e = await initialised();
    const result = await e.addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    expect(result.created).toEqual(['Base-2-0']);
    expect(volumes.find('Base-2-0')).toMatchObject({
      pool: 'pool00',
      readOnly: true,
      activationSkip: true,
      active: false,
      tags: [Tags.base],
    });
    expect(filesystem.calls.at(-1)).toBe('create /dev/onn/Base-2-0');
  });

  it('writes an ext4 image and refuses anything else', async () => {
    const e = await initialised();
    filesystem.images.set('/img/good.ext4', { type: 'ext4', uuid: 'u', label: undefined });
    filesystem.images.set('/img/bad.xfs', { type: 'xfs', uuid: 'u', label: undefined });
    await e.addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30, image: '/img/good.ext4' });
    expect(filesystem.calls.at(-1)).toBe('writeImage /img/good.ext4 /dev/onn/Base-2-0');
    const before = volumes.snapshot();
    await expect(e.addBase({ nvr: 'Base-3-0', sizeBytes: 2 ** 30, image: '/img/bad.xfs' })).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
    });
    await expect(e.addBase({ nvr: 'Base-3-0', sizeBytes: 2 ** 30, image: '/img/missing' })).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
    });
    expect(volumes.snapshot()).toBe(before);
  });

  it('checks the image before it makes anything, and a damaged one changes nothing', async () => {
    const e = await initialised();
    filesystem.images.set('/img/damaged.ext4', { type: 'ext4', uuid: 'u', label: undefined });
    filesystem.fail = { method: 'checkImage', error: new ImageInvalidError('/img/damaged.ext4', 'damaged') };
    const [before, callsBefore] = [volumes.snapshot(), filesystem.calls.length];
    await expect(e.addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30, image: '/img/damaged.ext4' })).rejects.toMatchObject({
      code: 'E_IMAGE_INVALID',
    });
    expect(volumes.snapshot()).toBe(before);
    expect(filesystem.calls.slice(callsBefore)).toEqual(['checkImage /img/damaged.ext4']);
  });

  it('refuses an existing name and a missing layout without changes', async () => {
    await expect(engine().addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 })).rejects.toMatchObject({
      code: 'E_NO_LAYOUT',
    });
    const e = await initialised();
    const before = volumes.snapshot();
    await expect(e.addBase({ nvr: 'Base-1-0', sizeBytes: 2 ** 30 })).rejects.toMatchObject({ code: 'E_BASE_EXISTS' });
    expect(volumes.snapshot()).toBe(before);
  });

  it('removes what it made when writing the image fails', async () => {
    const e = await initialised();
    filesystem.images.set('/img/good.ext4', { type: 'ext4', uuid: 'u', label: undefined });
    filesystem.fail = { method: 'writeImage', error: new Error('disk full') };
    const before = volumes.snapshot();
    await expect(e.addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30, image: '/img/good.ext4' })).rejects.toThrow(
      'disk full',
    );
    expect(volumes.snapshot()).toBe(before);
  });

  it('removes a base with its layers, newest first', async () => {
    const e = await initialised();
    await e.addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    await e.addLayer();
    await e.addLayer();
    const result = await e.removeBase('Base-2-0');
    expect(result.removed).toEqual(['Base-2-0+2', 'Base-2-0+1', 'Base-2-0']);
    expect((await e.layout()).bases.map((b) => b.name)).toEqual(['Base-1-0']);
  });

  it('refuses to remove the base of the running layer', async () => {
    const e = await initialised();
    host.root = { source: 'x', device: volumes.find('Base-1-0+1')!.device };
    const before = volumes.snapshot();
    await expect(e.removeBase('Base-1-0')).rejects.toMatchObject({ code: 'E_BASE_IN_USE' });
    await expect(e.removeBase('Base-7-0')).rejects.toMatchObject({ code: 'E_BASE_NOT_FOUND' });
    expect(volumes.snapshot()).toBe(before);
  });
});

describe('layer --add', () => {
  it('snapshots the newest layer of the newest base by default', async () => {
    const e = await initialised();
    expect((await e.addLayer()).created).toEqual(['Base-1-0+2']);
    expect(volumes.find('Base-1-0+2')!.origin).toBe('Base-1-0+1');
  });

  it('snapshots the base itself when it has no layer yet', async () => {
    const e = await initialised();
    await e.addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    await e.addLayer();
    expect(volumes.find('Base-2-0+1')).toMatchObject({ origin: 'Base-2-0', tags: [Tags.layer], active: true });
  });

  it('takes a named base or layer', async () => {
    const e = await initialised();
    await e.addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    await e.addLayer({ from: 'Base-1-0' });
    expect(volumes.find('Base-1-0+2')!.origin).toBe('Base-1-0+1');
    await e.addLayer({ from: 'Base-1-0+1' });
    expect(volumes.find('Base-1-0+3')!.origin).toBe('Base-1-0+1');
    await expect(e.addLayer({ from: 'Base-5-0' })).rejects.toMatchObject({ code: 'E_BASE_NOT_FOUND' });
    await expect(e.addLayer({ from: 'Base-1-0+9' })).rejects.toMatchObject({ code: 'E_LAYER_NOT_FOUND' });
    await expect(e.addLayer({ from: 'bad name' })).rejects.toMatchObject({ code: 'E_NAME_INVALID' });
  });

  it('never reuses the index of a removed layer', async () => {
    const e = await initialised();
    await e.addLayer();
    await e.addLayer();
    await volumes.remove({ vg: 'onn', name: 'Base-1-0+2' });
    await e.addLayer();
    expect(volumes.find('Base-1-0+4')).toBeDefined();
  });

  it('removes the half-made layer when a step fails', async () => {
    const e = await initialised();
    const before = volumes.snapshot();
    filesystem.fail = { method: 'regenerateUuid', error: new Error('e2fsck found errors') };
    await expect(e.addLayer()).rejects.toThrow('e2fsck found errors');
    expect(volumes.snapshot()).toBe(before);
  });

  it('is cancelled by its signal and leaves nothing behind', async () => {
    const e = await initialised();
    const before = volumes.snapshot();
    const controller = new AbortController();
    filesystem.during = () => controller.abort(new Error('user pressed stop'));
    const events: EngineEvent[] = [];
    await expect(e.addLayer({}, { signal: controller.signal, report: (ev) => events.push(ev) })).rejects.toMatchObject({
      code: 'E_CANCELLED',
    });
    expect(volumes.snapshot()).toBe(before);
    expect(events.filter((ev) => ev.type === 'undo').map((ev) => ev.type === 'undo' && ev.message)).toEqual([
      'remove Base-1-0+2',
    ]);
  });
});
