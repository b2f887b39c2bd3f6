import { bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader } from '@imgbased/core';
import { MemoryBootFiles, type ScriptedRunner } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseGrubMenu } from './grub-menu.js';
import grubBlsPlugin from './index.js';
import { type GrubBlsSettings, grubBlsSettings } from './settings.js';
import { fakeEditenv } from './testing/fake-editenv.js';

const GRUB = '/boot/grub';
const MENU = `${GRUB}/imgbased.cfg`;
const GRUB_CFG = `set default=0\nmenuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-1234' {\n\tlinux /vmlinuz-6.1 root=UUID=1234 ro quiet\n\tinitrd /initrd.img-6.1\n}\nsource \${prefix}/imgbased.cfg\n`;

let files: MemoryBootFiles;
let runner: ScriptedRunner;
let fsType: string;
const id = entryIdForLayer;

/** The plugin made through its definition, with `[bootloader.grub-bls]` as given, run by ManagedBootloader. */
function plugin(section: Record<string, string> = {}): ManagedBootloader {
  const settings: GrubBlsSettings = grubBlsSettings.parse(section);
  const made = grubBlsPlugin.create({ runner, files: bootFiles(files), bootDir: '/boot', settings });
  return new ManagedBootloader(made, files, { filesystemType: async () => fsType });
}

function layer(name: string, source: DesiredBootEntry['files']): DesiredBootEntry {
  return {
    layer: name,
    title: `${name} (6.1.0)`,
    version: '6.1.0',
    options: ['quiet', `img.bootid=${name}`],
    files: source,
  };
}
const fromHost = { kernel: '/src/vmlinuz-6.1.0', initrd: '/src/initrd.img-6.1.0' };

function fresh(): void {
  files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz-6.1.0', 'KERNEL');
  files.files.set('/src/initrd.img-6.1.0', 'INITRD');
  files.files.set(`${GRUB}/grub.cfg`, GRUB_CFG);
}

beforeEach(() => {
  fresh();
  runner = fakeEditenv(files);
  fsType = 'ext4';
});

describe('the grub-bls plugin', () => {
  it('is a bootloader definition named grub-bls, tried after extlinux, with its own settings', () => {
    expect(grubBlsPlugin).toMatchObject({ kind: 'bootloader', name: 'grub-bls', contractVersion: 1, probeOrder: 20 });
    expect(grubBlsPlugin.settings).toBe(grubBlsSettings);
  });

  it('detects grub and picks the mode from grub.cfg unless the settings name one', async () => {
    const located = async (section?: Record<string, string>) =>
      grubBlsPlugin
        .create({ runner, files: bootFiles(files), bootDir: '/boot', settings: grubBlsSettings.parse(section ?? {}) })
        .locate();
    expect(await plugin().detect()).toBe(true);
    expect(await located()).toEqual({ root: '/boot', config: MENU });
    expect(await located({ mode: 'blscfg' })).toEqual({ root: '/boot', config: '/boot/loader/entries' });
    files.files.set(`${GRUB}/grub.cfg`, 'insmod blscfg\nblscfg\n');
    expect((await located()).config).toBe('/boot/loader/entries');
    expect((await located({ mode: 'menu' })).config).toBe(MENU);
    files.files.delete(`${GRUB}/grub.cfg`);
    expect(await plugin().detect()).toBe(false);
  });

  it('menu mode: writes the menu, copies kernels, sets saved_entry, keeps grub.cfg entries listed', async () => {
    const p = plugin();
    // Two files replaced (the menu, then the environment block): not one atomic swap.
    expect(await p.writeEntries([layer('B-1-0+1', fromHost)])).toEqual({ atomic: false });
    expect(files.files.get('/boot/B-1-0+1/vmlinuz-6.1.0')).toBe('KERNEL');
    const state = await p.state();
    expect(state.entries.map((e) => [e.id, e.layer])).toEqual([
      [id('B-1-0+1'), 'B-1-0+1'],
      ['gnulinux-simple-1234', undefined],
    ]);
    expect(state.defaultId).toBe(id('B-1-0+1'));
    expect(files.files.get(`${GRUB}/grub.cfg`)).toBe(GRUB_CFG);
    // The same set again changes nothing.
    const before = files.snapshot();
    expect(await p.writeEntries([layer('B-1-0+1', kept('B-1-0+1'))])).toEqual({ atomic: true });
    expect(files.snapshot()).toBe(before);
  });

  it('sets the default and a one-shot in the environment block, and refuses unknown entries', async () => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost), layer('B-1-0+2', fromHost)]);
    expect((await p.capabilities()).nativeOneShot).toBe(true);
    await p.setDefault(id('B-1-0+1'));
    expect(await p.setNextBoot(id('B-1-0+2'))).toEqual({ atomic: true });
    expect(await p.state()).toMatchObject({ defaultId: id('B-1-0+1'), nextId: id('B-1-0+2') });
    expect(runner.commandLines).toContain(`grub-editenv ${GRUB}/.grubenv.imgbased-new set next_entry=${id('B-1-0+2')}`);
    const before = files.snapshot();
    await expect(p.setDefault('nope')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    await expect(p.setNextBoot('nope')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    expect(files.snapshot()).toBe(before);
  });

  it('blscfg mode: writes BLS entries and removes only its own', async () => {
    files.files.set(`${GRUB}/grub.cfg`, 'blscfg\n');
    files.files.set('/boot/loader/entries/fedora.conf', 'title Fedora\nlinux /vmlinuz\n');
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost), layer('B-1-0+2', fromHost)]);
    expect(files.files.get(`/boot/loader/entries/${id('B-1-0+2')}.conf`)).toContain('linux /B-1-0+2/vmlinuz-6.1.0');
    await p.writeEntries([layer('B-1-0+2', kept('B-1-0+2'))]);
    expect([...files.files.keys()].filter((f) => f.startsWith('/boot/loader/entries/')).sort()).toEqual([
      '/boot/loader/entries/fedora.conf',
      `/boot/loader/entries/${id('B-1-0+2')}.conf`,
    ]);
    expect(files.files.has('/boot/B-1-0+1/vmlinuz-6.1.0')).toBe(false);
  });

  it('reports FAT as not atomic', async () => {
    fsType = 'vfat';
    expect((await plugin().capabilities()).atomicSwap).toBe(false);
    await plugin().writeEntries([layer('B-1-0+1', fromHost)]);
    expect(await plugin().setDefault('gnulinux-simple-1234')).toEqual({ atomic: false });
  });

  it.each([
    ['a corrupted menu file', MENU, 'menuentry {{{ garbage', MENU],
    ['a corrupted environment block', `${GRUB}/grubenv`, 'not an environment block', `${GRUB}/grubenv`],
  ])('leaves %s and everything else byte for byte as it was', async (_what, path, text, named) => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', fromHost)]);
    files.files.set(path, text);
    const before = files.snapshot();
    await expect(p.writeEntries([layer('B-1-0+2', fromHost)])).rejects.toMatchObject({
      code: 'E_BOOT_CONFIG_INVALID',
      details: { file: named },
    });
    await expect(p.setDefault(id('B-1-0+1'))).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    await expect(p.setNextBoot(id('B-1-0+1'))).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    expect(files.snapshot()).toBe(before);
  });

  it('leaves a bootable configuration wherever a write is cut', async () => {
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      fresh();
      runner = fakeEditenv(files);
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
      const entries = parseGrubMenu(files.files.get(MENU)!);
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) expect(files.files.has(`/boot${e.kernel}`), e.kernel).toBe(true);
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
