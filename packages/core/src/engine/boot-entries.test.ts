import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import type { CommandRunner } from '../contracts/command-runner.js';
import type { EngineEvent } from '../events.js';
import {
  FixedHost,
  foreignEntry,
  installedLayerEntry,
  MemoryBootloader,
  MemoryLock,
  MemoryVolumeManager,
  NullRunner,
  RecordingFilesystem,
  ScriptedRunner,
} from '../testing/index.js';
import { ImageEngine } from './engine.js';

let volumes: MemoryVolumeManager;
let filesystem: RecordingFilesystem;
let boot: MemoryBootloader;
let lock: MemoryLock;
const id = entryIdForLayer;

function engine(dryRun = false, runner: CommandRunner = new NullRunner(dryRun)): ImageEngine {
  return new ImageEngine(volumes, filesystem, new FixedHost(), lock, runner, boot);
}

beforeEach(async () => {
  volumes = MemoryVolumeManager.thinpHost();
  filesystem = new RecordingFilesystem();
  lock = new MemoryLock();
  boot = new MemoryBootloader();
  boot.present = false;
  await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  boot.present = true;
  // The first layer's entry, as the installer left it, and an entry imgbased did not write.
  boot.entries = [installedLayerEntry('Base-1-0+1', { extraOptions: ['quiet'] }), foreignEntry()];
  boot.defaultId = id('Base-1-0+1');
});

describe('layer --add keeps the boot entries in step', () => {
  it('writes the new layer’s entry from its source’s kernel, with its own arguments, and makes it the default', async () => {
    const result = await engine().addLayer({ from: 'Base-1-0+1' });
    expect(result.boot).toEqual({ bootloader: 'memory', added: [id('Base-1-0+2')], removed: [], atomic: true });
    const entry = boot.entries.find((e) => e.layer === 'Base-1-0+2')!;
    expect(entry).toMatchObject({ title: 'Base-1-0+2 (6.1.0)', kernel: '/Base-1-0+2/vmlinuz-6.1.0' });
    expect(entry.options).toEqual([
      'quiet',
      'rd.lvm.lv=onn/Base-1-0+2',
      'root=/dev/onn/Base-1-0+2',
      'rootflags=discard',
      'img.bootid=Base-1-0+2',
    ]);
    expect(boot.defaultId).toBe(id('Base-1-0+2'));
    expect(boot.entries.map((e) => e.id)).toContain('rescue');
  });

  it('undoes the volume and the entry together when the boot write fails', async () => {
    const volumesBefore = volumes.snapshot();
    const bootBefore = boot.snapshot();
    boot.failNext = { method: 'setDefault', error: new Error('disk full') };
    await expect(engine().addLayer({ from: 'Base-1-0+1' })).rejects.toThrow('disk full');
    expect(volumes.snapshot()).toBe(volumesBefore);
    expect(boot.snapshot()).toBe(bootBefore);
  });

  it('takes the kernel from the new layer’s /boot when the source has no entry', async () => {
    boot.entries = boot.entries.filter((e) => e.layer === undefined);
    const runner = new ScriptedRunner().on(['ls'], {
      stdout: 'vmlinuz-6.1.0-9\nvmlinuz-6.1.0-10\ninitrd.img-6.1.0-10\n',
    });
    await engine(false, runner).addLayer({ from: 'Base-1-0+1' });
    expect(runner.commandLines).toEqual(['ls -1A /mnt/fake/boot']);
    expect(boot.entries.find((e) => e.layer === 'Base-1-0+2')).toMatchObject({
      title: 'Base-1-0+2 (6.1.0-10)',
      kernel: '/Base-1-0+2/vmlinuz-6.1.0-10',
    });
  });

  it('boots the running kernel from a separate /boot when the layer has none of its own', async () => {
    boot.entries = boot.entries.filter((e) => e.layer === undefined);
    const runner = new ScriptedRunner()
      .on(['ls', '-1A', '/mnt/fake/boot'], { stdout: '' })
      .on(['uname', '-r'], { stdout: '6.1.0-9\n' })
      .on(['ls', '-1A', '/boot'], { stdout: 'vmlinuz-6.1.0-9\ninitrd.img-6.1.0-9\nvmlinuz-6.1.0-10\ngrub\n' });
    const events: EngineEvent[] = [];
    const result = await engine(false, runner).addLayer({ from: 'Base-1-0+1' }, { report: (e) => events.push(e) });
    expect(runner.commandLines).toEqual(['ls -1A /mnt/fake/boot', 'uname -r', 'ls -1A /boot']);
    expect(result.boot?.added).toEqual([id('Base-1-0+2')]);
    // The running kernel, not the newest one installed.
    expect(boot.entries.find((e) => e.layer === 'Base-1-0+2')).toMatchObject({
      title: 'Base-1-0+2 (6.1.0-9)',
      kernel: '/Base-1-0+2/vmlinuz-6.1.0-9',
      initrd: '/Base-1-0+2/initrd.img-6.1.0-9',
    });
    expect(events).toContainEqual({
      type: 'warning',
      message: 'Base-1-0+2 has no kernel in its own /boot: its entry boots the running kernel 6.1.0-9 from /boot',
    });
  });

  it('writes no entry, with a warning, when the running kernel is not in /boot either', async () => {
    boot.entries = boot.entries.filter((e) => e.layer === undefined);
    const runner = new ScriptedRunner()
      .on(['uname', '-r'], { stdout: '6.1.0-9\n' })
      .on(['ls', '-1A', '/boot'], { stdout: 'vmlinuz-6.1.0-10\n' });
    const events: EngineEvent[] = [];
    const result = await engine(false, runner).addLayer({ from: 'Base-1-0+1' }, { report: (e) => events.push(e) });
    expect(result.created).toEqual(['Base-1-0+2']);
    expect(result.boot).toBeUndefined();
    expect(boot.entries.some((e) => e.layer === 'Base-1-0+2')).toBe(false);
    expect(events.filter((e) => e.type === 'warning')).toHaveLength(1);
  });

  it('writes no entry, with a warning, when no bootloader is present', async () => {
    boot.present = false;
    const events: EngineEvent[] = [];
    const result = await engine().addLayer({}, { report: (e) => events.push(e) });
    expect(result.created).toEqual(['Base-1-0+2']);
    expect(result.boot).toBeUndefined();
    expect(events).toContainEqual({
      type: 'warning',
      message: 'no bootloader found: no boot entry was written for Base-1-0+2',
    });
  });

  it('writes nothing in a dry run', async () => {
    const before = boot.snapshot();
    await engine(true).addLayer({ from: 'Base-1-0+1' });
    expect(boot.snapshot()).toBe(before);
  });
});

describe('base --remove keeps the boot entries in step', () => {
  it('removes the entries of the base’s layers, their files only at commit', async () => {
    await engine().addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    await engine().addLayer({ from: 'Base-1-0+1' });
    const result = await engine().removeBase('Base-1-0');
    expect(result.boot).toMatchObject({ removed: [id('Base-1-0+1'), id('Base-1-0+2')] });
    expect(boot.entries.map((e) => e.id)).toEqual(['rescue']);
    expect(boot.log.slice(-2)).toEqual(['write  (keep files)', 'write ']);
  });

  it('refuses to remove the last bootable entry, changing nothing', async () => {
    boot.entries = boot.entries.filter((e) => e.layer !== undefined);
    await engine().addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    const before = [volumes.snapshot(), boot.snapshot()];
    await expect(engine().removeBase('Base-1-0')).rejects.toMatchObject({ code: 'E_BOOT_LAST_ENTRY' });
    expect([volumes.snapshot(), boot.snapshot()]).toEqual(before);
  });

  it('restores the entries when a volume cannot be removed', async () => {
    await engine().addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    const before = boot.snapshot();
    volumes.failNext = { operation: 'remove', error: new Error('lvremove failed') };
    await expect(engine().removeBase('Base-1-0')).rejects.toThrow('lvremove failed');
    expect(boot.snapshot()).toBe(before);
  });
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
    const change = await engine(true).editKernelArgs('Base-1-0+1', { delete: ['quiet'] });
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
