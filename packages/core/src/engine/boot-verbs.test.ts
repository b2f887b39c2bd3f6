import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import { Tags } from '../layout/tags.js';
import {
  FixedHost,
  foreignEntry,
  installedLayerEntry,
  MemoryBootloader,
  MemoryLock,
  MemoryVolumeManager,
  RecordingFilesystem,
} from '../testing/index.js';
import { ImageEngine } from './engine.js';

let volumes: MemoryVolumeManager;
let filesystem: RecordingFilesystem;
let boot: MemoryBootloader;
let lock: MemoryLock;
let host: FixedHost;
const id = entryIdForLayer;

function engine(): ImageEngine {
  return new ImageEngine(volumes, filesystem, host, lock, boot);
}

beforeEach(async () => {
  volumes = MemoryVolumeManager.thinpHost();
  filesystem = new RecordingFilesystem();
  lock = new MemoryLock();
  host = new FixedHost();
  boot = new MemoryBootloader();
  boot.present = false;
  await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  boot.present = true;
  // The first layer's entry, as the installer left it, and an entry imgbased did not write.
  boot.entries = [installedLayerEntry('Base-1-0+1', { extraOptions: ['quiet'] }), foreignEntry()];
  boot.defaultId = id('Base-1-0+1');
});

describe('boot verbs', () => {
  it('lists entries with the default and the one-shot', async () => {
    await engine().addLayer({ from: 'Base-1-0+1' });
    await engine().setNextBoot('Base-1-0+1');
    const list = await engine().bootList();
    expect(list).toMatchObject({ bootloader: 'memory', default: id('Base-1-0+2'), next: id('Base-1-0+1') });
    expect(list.entries.map((e) => [e.id, e.layer, e.isDefault, e.isNext])).toEqual([
      [id('Base-1-0+1'), 'Base-1-0+1', false, true],
      [id('Base-1-0+2'), 'Base-1-0+2', true, false],
      ['rescue', null, false, false],
    ]);
    expect(await engine().bootDefault()).toEqual({
      bootloader: 'memory',
      entry: id('Base-1-0+2'),
      layer: 'Base-1-0+2',
    });
  });

  it('sets the default by layer name, under the lock', async () => {
    await engine().addLayer({ from: 'Base-1-0+1' });
    expect(await engine().setDefaultBoot('Base-1-0+1')).toEqual({
      dryRun: false,
      bootloader: 'memory',
      layer: 'Base-1-0+1',
      entry: id('Base-1-0+1'),
      atomic: true,
      trial: false,
    });
    expect(boot.defaultId).toBe(id('Base-1-0+1'));
    expect(lock.purposes.at(-1)).toBe('boot --set-default');
  });

  it('gives typed errors and changes nothing for bad input', async () => {
    const before = boot.snapshot();
    await expect(engine().setDefaultBoot('Base-1-0+9')).rejects.toMatchObject({ code: 'E_LAYER_NOT_FOUND' });
    await expect(engine().setDefaultBoot('Base-1-0')).rejects.toMatchObject({ code: 'E_NAME_INVALID' });
    boot.entries = boot.entries.filter((e) => e.layer === undefined);
    await expect(engine().setNextBoot('Base-1-0+1')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    boot.present = false;
    await expect(engine().setDefaultBoot('Base-1-0+1')).rejects.toMatchObject({ code: 'E_NO_BOOTLOADER' });
    expect(await engine().bootList()).toMatchObject({ bootloader: null, entries: [] });
    boot.present = true;
    boot.entries = JSON.parse(before).entries;
    expect(boot.snapshot()).toBe(before);
    expect(lock.holder).toBeUndefined();
  });
});

describe('kernel arguments of a layer', () => {
  const own = ['rd.lvm.lv=onn/Base-1-0+1', 'root=/dev/onn/Base-1-0+1', 'rootflags=discard', 'img.bootid=Base-1-0+1'];

  it('reads them from the layer’s entry', async () => {
    expect(await engine().kernelArgs('Base-1-0+1')).toEqual({
      bootloader: 'memory',
      layer: 'Base-1-0+1',
      entry: id('Base-1-0+1'),
      options: ['quiet', 'rd.lvm.lv=onn/Base-1-0+1', 'root=/dev/onn/Base-1-0+1', 'img.bootid=Base-1-0+1'],
    });
  });

  it('appends and deletes, under the lock, keeping the other entries and imgbased’s own arguments', async () => {
    const rescue = JSON.stringify(boot.entries.find((e) => e.id === 'rescue'));
    const change = await engine().editKernelArgs('Base-1-0+1', {
      append: ['console=ttyS0,115200n8', 'acpi_osi="!Windows 2012"'],
      delete: ['quiet'],
    });
    expect(change).toMatchObject({ dryRun: false, layer: 'Base-1-0+1', entry: id('Base-1-0+1'), atomic: true });
    expect(change.options).toEqual([...own, 'console=ttyS0,115200n8', 'acpi_osi="!Windows 2012"']);
    expect(boot.entries.find((e) => e.layer === 'Base-1-0+1')?.options).toEqual(change.options);
    expect(boot.entries.find((e) => e.layer === 'Base-1-0+1')?.title).toBe('Base-1-0+1 (6.1.0)');
    expect(JSON.stringify(boot.entries.find((e) => e.id === 'rescue'))).toBe(rescue);
    expect(lock.purposes.at(-1)).toBe('boot --edit-kernel-args');

    // key=value replaces the key's value; a later layer made from this one inherits the arguments.
    await engine().editKernelArgs('Base-1-0+1', { append: ['console=tty0'] });
    await engine().addLayer({ from: 'Base-1-0+1' });
    expect(boot.entries.find((e) => e.layer === 'Base-1-0+2')?.options).toEqual([
      'acpi_osi="!Windows 2012"',
      'console=tty0',
      'rd.lvm.lv=onn/Base-1-0+2',
      'root=/dev/onn/Base-1-0+2',
      'rootflags=discard',
      'img.bootid=Base-1-0+2',
    ]);
  });

  it('changes nothing in a dry run, but says what the arguments would be', async () => {
    const before = boot.snapshot();
    const change = await engine().editKernelArgs('Base-1-0+1', { delete: ['quiet'] }, { dryRun: true });
    expect(change).toMatchObject({ dryRun: true, options: own });
    expect(change.previous).toContain('quiet');
    expect(boot.snapshot()).toBe(before);
  });

  it.each([
    ['root=/dev/sda1', 'E_KERNEL_ARG_INVALID'],
    ['img.bootid', 'E_KERNEL_ARG_INVALID'],
    ['rd.lvm.lv=onn/other', 'E_KERNEL_ARG_INVALID'],
    ['two words', 'E_KERNEL_ARG_INVALID'],
    ['a\nb', 'E_KERNEL_ARG_INVALID'],
    ['x="unbalanced', 'E_KERNEL_ARG_INVALID'],
    ['back\\slash', 'E_KERNEL_ARG_INVALID'],
    ['', 'E_KERNEL_ARG_INVALID'],
  ])('refuses %j with %s and changes nothing', async (arg, code) => {
    const before = boot.snapshot();
    await expect(engine().editKernelArgs('Base-1-0+1', { append: [arg] })).rejects.toMatchObject({ code });
    await expect(engine().editKernelArgs('Base-1-0+1', { delete: [arg] })).rejects.toMatchObject({ code });
    expect(boot.snapshot()).toBe(before);
    expect(lock.holder).toBeUndefined();
  });

  it('gives typed errors for a missing layer, entry or edit', async () => {
    const before = boot.snapshot();
    await expect(engine().editKernelArgs('Base-1-0+1', {})).rejects.toMatchObject({ code: 'E_USAGE' });
    await expect(engine().kernelArgs('Base-1-0+7')).rejects.toMatchObject({ code: 'E_LAYER_NOT_FOUND' });
    await expect(engine().editKernelArgs('Base-1-0+7', { append: ['quiet'] })).rejects.toMatchObject({
      code: 'E_LAYER_NOT_FOUND',
    });
    boot.entries = boot.entries.filter((e) => e.layer === undefined);
    await expect(engine().kernelArgs('Base-1-0+1')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    boot.entries = JSON.parse(before).entries;
    boot.failNext = { method: 'writeEntries', error: new Error('read-only file system') };
    await expect(engine().editKernelArgs('Base-1-0+1', { append: ['quiet'] })).rejects.toThrow('read-only');
    expect(boot.snapshot()).toBe(before);
    expect(lock.holder).toBeUndefined();
  });
});

describe('changing boot verbs take the change path', () => {
  const leftPending = () =>
    volumes.addVolume({
      vg: 'onn',
      name: 'Base-1-0+2',
      pool: 'pool00',
      origin: 'Base-1-0+1',
      tags: [Tags.layer, Tags.pending],
    });

  it.each([
    ['boot --set-default', () => engine().setDefaultBoot('Base-1-0+1')],
    ['boot --next', () => engine().setNextBoot('Base-1-0+1')],
    ['boot --edit-kernel-args', () => engine().editKernelArgs('Base-1-0+1', { append: ['console=tty0'] })],
  ])('%s takes the lock and first removes what a killed operation left pending', async (purpose, verb) => {
    leftPending();
    boot.log.length = 0;
    await verb();
    expect(volumes.find('Base-1-0+2')).toBeUndefined();
    expect(lock.purposes.at(-1)).toBe(purpose);
    expect(lock.holder).toBeUndefined();
    expect(boot.log).toHaveLength(1);
  });

  it('fails with E_LOCKED while another operation runs, changing nothing', async () => {
    const held = await lock.acquire('someone else');
    const before = boot.snapshot();
    await expect(engine().setDefaultBoot('Base-1-0+1')).rejects.toMatchObject({ code: 'E_LOCKED' });
    await expect(engine().editKernelArgs('Base-1-0+1', { append: ['quiet'] })).rejects.toMatchObject({
      code: 'E_LOCKED',
    });
    expect(boot.snapshot()).toBe(before);
    await held.release();
  });

  it('takes no lock in a dry run, and writes nothing', async () => {
    await engine().addLayer({ from: 'Base-1-0+1' });
    const held = await lock.acquire('someone else');
    const before = boot.snapshot();
    await expect(engine().setDefaultBoot('Base-1-0+1', { dryRun: true })).resolves.toMatchObject({
      dryRun: true,
      entry: id('Base-1-0+1'),
    });
    await expect(engine().setNextBoot('Base-1-0+1', { dryRun: true })).resolves.toMatchObject({ dryRun: true });
    await expect(
      engine().editKernelArgs('Base-1-0+1', { append: ['console=tty0'] }, { dryRun: true }),
    ).resolves.toMatchObject({ dryRun: true });
    expect(boot.snapshot()).toBe(before);
    expect(lock.purposes.at(-1)).toBe('someone else');
    await held.release();
  });

  it('points the default back when cancelled after setting it', async () => {
    await engine().addLayer({ from: 'Base-1-0+1' });
    const controller = new AbortController();
    const change = engine().setDefaultBoot('Base-1-0+1', {
      signal: controller.signal,
      // Cancelled while the default is being set: the change path's last checkpoint sees it.
      report: (e) => e.type === 'step' && e.step === 'boot' && controller.abort(new Error('stop')),
    });
    await expect(change).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(boot.defaultId).toBe(id('Base-1-0+2'));
  });

  it('restores the kernel arguments when cancelled after writing them', async () => {
    const before = boot.snapshot();
    const controller = new AbortController();
    const change = engine().editKernelArgs(
      'Base-1-0+1',
      { append: ['console=tty0'] },
      {
        signal: controller.signal,
        report: (e) => e.type === 'step' && e.step === 'boot' && controller.abort(new Error('stop')),
      },
    );
    await expect(change).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(boot.snapshot()).toBe(before);
  });
});
