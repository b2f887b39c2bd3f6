import { bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader } from '@imgbased/core';
import { MemoryBootFiles, ScriptedRunner } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseExtlinuxConf, renderExtlinuxConf } from './extlinux-conf.js';
import extlinuxPlugin from './index.js';

const CONF = '/boot/extlinux/extlinux.conf';
const FOREIGN = `# hand-written
PROMPT 0
TIMEOUT 50
DEFAULT rescue

LABEL rescue
  MENU LABEL Rescue system
  KERNEL /vmlinuz-rescue
  APPEND initrd=/initrd-rescue root=/dev/sda2 ro
`;

let files: MemoryBootFiles;
let runner: ScriptedRunner;
let fsType: string;

/** The plugin made through its definition, run by core's ManagedBootloader over the in-memory files. */
function plugin(): ManagedBootloader {
  const services = { runner, files: bootFiles(files), bootDir: '/boot', settings: undefined };
  return new ManagedBootloader(extlinuxPlugin.create(services), files, { filesystemType: async () => fsType });
}

function layer(name: string, files_: DesiredBootEntry['files']): DesiredBootEntry {
  return {
    layer: name,
    title: `${name} (6.1.0)`,
    version: '6.1.0',
    options: ['quiet', `img.bootid=${name}`],
    files: files_,
  };
}

const fromHost = { kernel: '/src/vmlinuz-6.1.0', initrd: '/src/initrd.img-6.1.0' };

beforeEach(() => {
  files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz-6.1.0', 'KERNEL');
  files.files.set('/src/initrd.img-6.1.0', 'INITRD');
  runner = new ScriptedRunner({ strict: true });
  fsType = 'ext4';
});

/** Every entry the configuration names has its kernel and initrd on the boot partition. */
async function assertBootable(): Promise<void> {
  const conf = parseExtlinuxConf((await files.read(CONF)) ?? '');
  expect(conf.blocks.length).toBeGreaterThan(0);
  for (const { entry } of conf.blocks) {
    expect(files.files.has(`/boot${entry.kernel}`), entry.kernel).toBe(true);
    if (entry.initrd) expect(files.files.has(`/boot${entry.initrd}`), entry.initrd).toBe(true);
  }
  expect(conf.blocks.map((b) => b.label)).toContain(conf.defaultLabel);
}

describe('extlinux.conf', () => {
  it('round-trips, keeping foreign blocks and global lines byte for byte', () => {
    const parsed = parseExtlinuxConf(FOREIGN);
    expect(parsed.blocks[0]!.entry).toMatchObject({
      id: 'rescue',
      title: 'Rescue system',
      kernel: '/vmlinuz-rescue',
      initrd: '/initrd-rescue',
      options: ['root=/dev/sda2', 'ro'],
      layer: undefined,
    });
    const again = parseExtlinuxConf(renderExtlinuxConf(parsed));
    expect(again).toEqual(parsed);
    expect(renderExtlinuxConf(again)).toBe(renderExtlinuxConf(parsed));
  });

  it.each([
    ['binary data', 'LABEL x\n  LINUX /k\n\0\0\0'],
    ['a label that boots nothing', 'LABEL x\n  APPEND quiet\n'],
    ['a line that is no directive', 'LABEL x\n  LINUX /k\n}}}\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseExtlinuxConf(text)).toThrow();
  });
});

describe('the extlinux plugin', () => {
  it('is a bootloader definition named extlinux, tried first by auto, with no settings', () => {
    expect(extlinuxPlugin).toMatchObject({ kind: 'bootloader', name: 'extlinux', contractVersion: 1, probeOrder: 10 });
    expect(extlinuxPlugin.settings).toBeUndefined();
  });

  it('detects an extlinux.conf', async () => {
    expect(await plugin().detect()).toBe(false);
    files.files.set(CONF, FOREIGN);
    expect(await plugin().detect()).toBe(true);
  });

  it('writes one LABEL per layer, copies kernels per layer, keeps foreign entries', async () => {
    files.files.set(CONF, FOREIGN);
    const p = plugin();
    expect(await p.writeEntries([layer('B-1-0+1', fromHost)])).toEqual({ atomic: true });
    expect(files.files.get('/boot/B-1-0+1/vmlinuz-6.1.0')).toBe('KERNEL');
    const state = await p.state();
    expect(state.defaultId).toBe('rescue');
    expect(state.entries.map((e) => [e.id, e.layer])).toEqual([
      [entryIdForLayer('B-1-0+1'), 'B-1-0+1'],
      ['rescue', undefined],
    ]);
    expect(state.entries[0]).toMatchObject({
      title: 'B-1-0+1 (6.1.0)',
      version: '6.1.0',
      kernel: '/B-1-0+1/vmlinuz-6.1.0',
      initrd: '/B-1-0+1/initrd.img-6.1.0',
      options: ['quiet', 'img.bootid=B-1-0+1'],
    });
    expect(files.files.get(CONF)).toContain('LABEL rescue\n  MENU LABEL Rescue system\n  KERNEL /vmlinuz-rescue\n');
  });

  it('sets the default, refuses unknown entries and one-shot boots, removes files of removed entries', async () => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost)]);
    await p.writeEntries([layer('B-1-0+1', kept('B-1-0+1')), layer('B-1-0+2', kept('B-1-0+1'))]);
    expect((await p.state()).defaultId).toBe(entryIdForLayer('B-1-0+1'));
    await p.setDefault(entryIdForLayer('B-1-0+2'));
    expect(files.files.get(CONF)).toContain(`DEFAULT ${entryIdForLayer('B-1-0+2')}\n`);
    const before = files.snapshot();
    await expect(p.setDefault('nope')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    await expect(p.setNextBoot(entryIdForLayer('B-1-0+1'))).rejects.toMatchObject({ code: 'E_BOOT_UNSUPPORTED' });
    expect(files.snapshot()).toBe(before);
    await p.writeEntries([layer('B-1-0+2', kept('B-1-0+2'))]);
    expect(files.files.has('/boot/B-1-0+1/vmlinuz-6.1.0')).toBe(false);
    expect((await p.state()).defaultId).toBe(entryIdForLayer('B-1-0+2'));
    await expect(p.writeEntries([])).rejects.toMatchObject({ code: 'E_BOOT_LAST_ENTRY' });
  });

  it('declares no one-shot and no boot counting, and FAT as not atomic', async () => {
    files.files.set(CONF, FOREIGN);
    expect(await plugin().capabilities()).toEqual({
      atomicSwap: true,
      nativeOneShot: false,
      nativeBootCounting: false,
    });
    fsType = 'vfat';
    expect((await plugin().capabilities()).atomicSwap).toBe(false);
    expect(await plugin().writeEntries([layer('B-1-0+1', fromHost)])).toEqual({ atomic: false });
  });

  it('leaves a corrupted configuration byte for byte as it was', async () => {
    files.files.set(CONF, `${FOREIGN}\0garbage`);
    const before = files.snapshot();
    const p = plugin();
    await expect(p.writeEntries([layer('B-1-0+1', fromHost)])).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    await expect(p.setDefault('rescue')).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    expect(files.snapshot()).toBe(before);
  });

  it('leaves a bootable configuration wherever a write is cut', async () => {
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      files = new MemoryBootFiles();
      files.files.set('/src/vmlinuz-6.1.0', 'KERNEL');
      files.files.set('/src/initrd.img-6.1.0', 'INITRD');
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
      if (done) break;
      cuts++;
    }
    expect(cuts).toBeGreaterThan(5);
  });
});

/** The files of a layer's installed entry, as a source. */
function kept(layer: string): DesiredBootEntry['files'] {
  return { onBootPartition: { kernel: `/${layer}/vmlinuz-6.1.0`, initrd: `/${layer}/initrd.img-6.1.0` } };
}
