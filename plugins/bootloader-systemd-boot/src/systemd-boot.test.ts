import {
  blsToBootEntry,
  bootFiles,
  type DesiredBootEntry,
  entryIdForLayer,
  ManagedBootloader,
  parseBlsEntry,
  parseBlsFileName,
} from '@imgbased/core';
import { MemoryBootFiles, ScriptedRunner } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import systemdBootPlugin from './index.js';
import { systemdBootSettings } from './settings.js';

const ESP = '/efi';
const ENTRIES = `${ESP}/loader/entries`;
const FOREIGN = 'title Debian rescue\nversion 6.1\nlinux /rescue/vmlinuz\noptions root=/dev/sda2\n';

let files: MemoryBootFiles;
let runner: ScriptedRunner;
let fsType: string;

/** The plugin made through its definition, with `[bootloader.systemd-boot]` as given, run by ManagedBootloader. */
function plugin(tries = 0, espDir = ESP): ManagedBootloader {
  const settings = systemdBootSettings.parse({ esp_dir: espDir, boot_counting_tries: String(tries) });
  const made = systemdBootPlugin.create({ runner, files: bootFiles(files), bootDir: '/boot', settings });
  return new ManagedBootloader(made, files, { filesystemType: async () => fsType });
}

const id = entryIdForLayer;
function layer(name: string, source: DesiredBootEntry['files']): DesiredBootEntry {
  return { layer: name, title: `${name} (6.1.0)`, version: '6.1.0', options: [`img.bootid=${name}`], files: source };
}
const fromHost = { kernel: '/src/vmlinuz-6.1.0', initrd: '/src/initrd.img-6.1.0' };

function fresh(): void {
  files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz-6.1.0', 'KERNEL');
  files.files.set('/src/initrd.img-6.1.0', 'INITRD');
  files.files.set(`${ESP}/loader/loader.conf`, 'timeout 3\n#console-mode max\n');
  files.files.set(`${ENTRIES}/debian-rescue+2-1.conf`, FOREIGN);
  files.files.set('/efi/rescue/vmlinuz', 'R');
}

beforeEach(() => {
  fresh();
  runner = new ScriptedRunner({ strict: true }).on(['bootctl'], {});
  fsType = 'vfat';
});

async function assertBootable(): Promise<void> {
  for (const name of await files.list(ENTRIES)) {
    if (!parseBlsFileName(name)) continue;
    const entry = blsToBootEntry(parseBlsEntry(name, files.files.get(`${ENTRIES}/${name}`)!));
    expect(files.files.has(`${ESP}${entry.kernel}`), entry.kernel).toBe(true);
    if (entry.initrd) expect(files.files.has(`${ESP}${entry.initrd}`), entry.initrd).toBe(true);
  }
}

describe('the systemd-boot plugin', () => {
  it('is a bootloader definition named systemd-boot, tried last by auto, with its own settings', () => {
    expect(systemdBootPlugin).toMatchObject({
      kind: 'bootloader',
      name: 'systemd-boot',
      contractVersion: 1,
      probeOrder: 30,
    });
    expect(systemdBootPlugin.settings).toBe(systemdBootSettings);
  });

  it('finds the ESP when esp_dir is auto: the first of /efi, /boot/efi, /boot holding loader/', async () => {
    const root = async () =>
      systemdBootPlugin
        .create({ runner, files: bootFiles(files), bootDir: '/boot', settings: systemdBootSettings.parse({}) })
        .locate();
    files = new MemoryBootFiles();
    expect((await root()).root).toBe('/boot/efi');
    files.dirs.add('/boot/loader');
    expect((await root()).root).toBe('/boot');
    files.dirs.add('/boot/efi/loader');
    expect((await root()).root).toBe('/boot/efi');
    files.dirs.add('/efi/loader');
    expect(await root()).toEqual({ root: '/efi', config: '/efi/loader/entries' });
    expect(await plugin(0, '/boot').detect()).toBe(false);
  });

  it('detects loader.conf on the ESP and declares FAT non-atomic', async () => {
    expect(await plugin().detect()).toBe(true);
    expect(await plugin().capabilities()).toEqual({
      atomicSwap: false,
      nativeOneShot: false,
      nativeBootCounting: true,
    });
    files = new MemoryBootFiles();
    expect(await plugin().detect()).toBe(false);
  });

  it('writes BLS entries and kernels on the ESP, lists foreign entries with their counters and keeps them', async () => {
    const p = plugin();
    expect(await p.writeEntries([layer('B-1-0+1', fromHost)])).toEqual({ atomic: false });
    const state = await p.state();
    expect(state.entries).toEqual([
      expect.objectContaining({ id: 'debian-rescue', tries: { left: 2, done: 1 }, layer: undefined }),
      {
        id: id('B-1-0+1'),
        title: 'B-1-0+1 (6.1.0)',
        version: '6.1.0',
        kernel: '/B-1-0+1/vmlinuz-6.1.0',
        initrd: '/B-1-0+1/initrd.img-6.1.0',
        options: ['img.bootid=B-1-0+1'],
        layer: 'B-1-0+1',
      },
    ]);
    expect(state.defaultId).toBe(id('B-1-0+1'));
    expect(files.files.get(`${ESP}/loader/loader.conf`)).toBe(
      `timeout 3\n#console-mode max\ndefault ${id('B-1-0+1')}.conf\n`,
    );
    expect(files.files.get(`${ENTRIES}/debian-rescue+2-1.conf`)).toBe(FOREIGN);
  });

  it('names new entries with a boot counter when asked, and keeps a counter across rewrites', async () => {
    const p = plugin(3);
    await p.writeEntries([layer('B-1-0+1', fromHost)]);
    expect(files.files.has(`${ENTRIES}/${id('B-1-0+1')}+3.conf`)).toBe(true);
    files.files.set(`${ENTRIES}/${id('B-1-0+1')}+1-2.conf`, files.files.get(`${ENTRIES}/${id('B-1-0+1')}+3.conf`)!);
    files.files.delete(`${ENTRIES}/${id('B-1-0+1')}+3.conf`);
    await p.writeEntries([{ ...layer('B-1-0+1', kept('B-1-0+1')), options: ['quiet', 'img.bootid=B-1-0+1'] }]);
    expect(files.files.get(`${ENTRIES}/${id('B-1-0+1')}+1-2.conf`)).toContain('options quiet img.bootid=B-1-0+1');
  });

  it('sets the default in loader.conf, refuses unknown ids and one-shot without EFI variables', async () => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost), layer('B-1-0+2', fromHost)]);
    await p.setDefault(id('B-1-0+1'));
    expect((await p.state()).defaultId).toBe(id('B-1-0+1'));
    const before = files.snapshot();
    await expect(p.setDefault('nope')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    await expect(p.setNextBoot(id('B-1-0+2'))).rejects.toMatchObject({ code: 'E_BOOT_UNSUPPORTED' });
    // Booted with UEFI but efivarfs not mounted, or by another loader: bootctl would refuse, so do we.
    files.dirs.add(EFIVARS);
    expect((await p.capabilities()).nativeOneShot).toBe(false);
    await expect(p.setNextBoot(id('B-1-0+2'))).rejects.toMatchObject({ code: 'E_BOOT_UNSUPPORTED' });
    expect(files.snapshot()).toBe(before);
    expect(runner.commandLines.filter((l) => l.startsWith('bootctl'))).toEqual([]);
    files.files.set(`${EFIVARS}/LoaderInfo-${LOADER_GUID}`, efiString('systemd-boot 252'));
    expect((await p.capabilities()).nativeOneShot).toBe(true);
    await p.setNextBoot(id('B-1-0+2'));
    expect(runner.commandLines).toContain(`bootctl --esp-path=${ESP} set-oneshot ${id('B-1-0+2')}.conf`);
  });

  it('reads the one-shot entry from LoaderEntryOneShot', async () => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost), layer('B-1-0+2', fromHost)]);
    expect((await p.state()).nextId).toBeUndefined();
    files.files.set(`${EFIVARS}/LoaderEntryOneShot-${LOADER_GUID}`, efiString(`${id('B-1-0+2')}.conf`));
    expect((await p.state()).nextId).toBe(id('B-1-0+2'));
  });

  it.each([
    ['an entry', `${ENTRIES}/broken.conf`, 'title x\n\0\0\0', ENTRIES],
    ['loader.conf', `${ESP}/loader/loader.conf`, 'timeout 3\n{{{\n', `${ESP}/loader/loader.conf`],
  ])('leaves a corrupted configuration (%s) byte for byte as it was', async (_what, path, text, named) => {
    files.files.set(path, text);
    const before = files.snapshot();
    const p = plugin();
    await expect(p.writeEntries([layer('B-1-0+1', fromHost)])).rejects.toMatchObject({
      code: 'E_BOOT_CONFIG_INVALID',
      details: { file: named },
    });
    await expect(p.setDefault('debian-rescue')).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    expect(files.snapshot()).toBe(before);
  });

  it('leaves a bootable configuration wherever a write is cut', async () => {
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      fresh();
      const p = plugin();
      await p.writeEntries([layer('B-1-0+1', fromHost)]);
      files.steps = 0;
      files.crashAt = cut;
      const done = await p.writeEntries([layer('B-1-0+2', kept('B-1-0+1'))]).then(
        () => true,
        (error: { code?: string }) => {
          expect(error.code).toBe('E_BOOT_WRITE_FAILED');
          return false;
        },
      );
      files.crashAt = Number.POSITIVE_INFINITY;
      await assertBootable();
      const state = await p.state();
      expect(state.entries.some((e) => e.layer !== undefined)).toBe(true);
      if (done) break;
      cuts++;
    }
    expect(cuts).toBeGreaterThan(5);
  });
});

const EFIVARS = '/sys/firmware/efi/efivars';
const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';

/** An efivarfs file as the kernel shows it (4 bytes of attributes, then the NUL-ended UTF-16LE string), as latin1. */
function efiString(value: string): string {
  const attributes = Buffer.from([0x07, 0, 0, 0]); // non-volatile, boot service, runtime
  return Buffer.concat([attributes, Buffer.from(`${value}\0`, 'utf16le')]).toString('latin1');
}

/** The files of a layer's installed entry, as a source. */
function kept(layer: string): DesiredBootEntry['files'] {
  return { onBootPartition: { kernel: `/${layer}/vmlinuz-6.1.0`, initrd: `/${layer}/initrd.img-6.1.0` } };
}
