import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import type { EngineEvent } from '../events.js';
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
  boot.files.add('/boot/Base-1-0+1');
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
    host.directories['/mnt/fake/boot'] = ['vmlinuz-6.1.0-9', 'vmlinuz-6.1.0-10', 'initrd.img-6.1.0-10'];
    // The running kernel in the host's /boot is not taken when the layer has kernels of its own.
    host.kernel = '6.1.0-9';
    host.directories['/boot'] = ['vmlinuz-6.1.0-9'];
    await engine().addLayer({ from: 'Base-1-0+1' });
    expect(filesystem.calls.at(-1)).toBe('mount /dev/onn/Base-1-0+2');
    expect(boot.entries.find((e) => e.layer === 'Base-1-0+2')).toMatchObject({
      title: 'Base-1-0+2 (6.1.0-10)',
      kernel: '/Base-1-0+2/vmlinuz-6.1.0-10',
    });
  });

  it('boots the running kernel from a separate /boot when the layer has none of its own', async () => {
    boot.entries = boot.entries.filter((e) => e.layer === undefined);
    host.kernel = '6.1.0-9';
    host.directories['/boot'] = ['vmlinuz-6.1.0-9', 'initrd.img-6.1.0-9', 'vmlinuz-6.1.0-10', 'grub'];
    const events: EngineEvent[] = [];
    const result = await engine().addLayer({ from: 'Base-1-0+1' }, { report: (e) => events.push(e) });
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
    host.kernel = '6.1.0-9';
    host.directories['/boot'] = ['vmlinuz-6.1.0-10'];
    const events: EngineEvent[] = [];
    const result = await engine().addLayer({ from: 'Base-1-0+1' }, { report: (e) => events.push(e) });
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
    await engine().addLayer({ from: 'Base-1-0+1' }, { dryRun: true });
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
    expect(boot.log.slice(-2)).toEqual(['write  (keep files)', 'remove files /boot/Base-1-0+1,/boot/Base-1-0+2']);
    expect(boot.files).toEqual(new Set());
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
