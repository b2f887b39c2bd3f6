import { bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader } from '@imgbased/core';
import { MemoryBootFiles, type ScriptedRunner } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import grubBlsPlugin from './index.js';
import { grubBlsSettings } from './settings.js';
import { environmentBlock, fakeEditenv } from './testing/fake-editenv.js';

// RHEL's layout: grub2/, BLS entries, and (with UEFI) grubenv a symlink into the ESP.
const GRUB2 = '/boot/grub2';
const ESP_ENV = '/boot/efi/EFI/redhat/grubenv';
const id = entryIdForLayer;

let files: MemoryBootFiles;
let runner: ScriptedRunner;

function plugin(runner_: ScriptedRunner, section: Record<string, string> = {}): ManagedBootloader {
  const settings = grubBlsSettings.parse(section);
  const made = grubBlsPlugin.create({ runner: runner_, files: bootFiles(files), bootDir: '/boot', settings });
  return new ManagedBootloader(made, files, { filesystemType: async () => 'ext4' });
}

function layer(name: string): DesiredBootEntry {
  return {
    layer: name,
    title: `${name} (6.1.0)`,
    version: '6.1.0',
    options: [`img.bootid=${name}`],
    files: { kernel: '/src/vmlinuz-6.1.0' },
  };
}

beforeEach(() => {
  files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz-6.1.0', 'KERNEL');
  files.files.set(`${GRUB2}/grub.cfg`, 'insmod blscfg\nblscfg\n');
  files.files.set(ESP_ENV, environmentBlock({}));
  files.links.set(`${GRUB2}/grubenv`, '../efi/EFI/redhat/grubenv');
  runner = fakeEditenv(files, ['grub2-editenv']);
});

describe('[bootloader.grub-bls] settings', () => {
  it('defaults to auto for both, accepts a mode, a program name or path, and refuses the rest', () => {
    expect(grubBlsSettings.parse({})).toEqual({ mode: 'auto', editenv: 'auto' });
    expect(grubBlsSettings.parse({ mode: 'menu', editenv: '/usr/bin/grub2-editenv' })).toEqual({
      mode: 'menu',
      editenv: '/usr/bin/grub2-editenv',
    });
    expect(grubBlsSettings.safeParse({ mode: 'bls' }).success).toBe(false);
    expect(grubBlsSettings.safeParse({ editenv: 'grub-editenv --verbose' }).success).toBe(false);
    const unknown = grubBlsSettings.safeParse({ grub_mode: 'menu' });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['grub_mode'] });
  });

  it('is a Standard Schema the host can validate with', async () => {
    const result = await grubBlsPlugin.settings!['~standard'].validate({ mode: 'blscfg' });
    expect(result).toEqual({ value: { mode: 'blscfg', editenv: 'auto' } });
  });
});

describe('the environment block', () => {
  it('auto: runs grub2-editenv where grub-editenv is not installed (Fedora, RHEL), and remembers it', async () => {
    const p = plugin(runner);
    await p.writeEntries([layer('B-1-0+1')]);
    await p.setNextBoot(id('B-1-0+1'));
    const editenvs = runner.calls.map((c) => c.argv[0]).filter((a) => a?.includes('editenv'));
    expect(editenvs[0]).toBe('grub-editenv');
    expect(editenvs.slice(1).every((a) => a === 'grub2-editenv')).toBe(true);
    expect(editenvs.length).toBeGreaterThan(3);
    expect((await p.state()).nextId).toBe(id('B-1-0+1'));
  });

  it('runs the program the settings name, and says when no grub-editenv is installed', async () => {
    const named = fakeEditenv(files, ['/usr/bin/grub2-editenv']);
    await plugin(named, { editenv: '/usr/bin/grub2-editenv' }).writeEntries([layer('B-1-0+1')]);
    expect(named.calls.map((c) => c.argv[0]).filter((a) => a?.includes('editenv'))).toEqual(
      expect.arrayContaining(['/usr/bin/grub2-editenv']),
    );
    expect(named.commandLines.some((l) => l.startsWith('grub'))).toBe(false);
    const before = files.snapshot();
    await expect(plugin(fakeEditenv(files, [])).setDefault(id('B-1-0+1'))).rejects.toMatchObject({
      code: 'E_COMMAND_NOT_FOUND',
      message: expect.stringContaining('grub-editenv or grub2-editenv'),
    });
    expect(files.snapshot()).toBe(before);
  });

  it('edits a symlinked grubenv at its target: the link stays and points at the new block', async () => {
    const p = plugin(runner);
    await p.writeEntries([layer('B-1-0+1'), layer('B-1-0+2')]);
    await p.setDefault(id('B-1-0+1'));
    await p.setNextBoot(id('B-1-0+2'));
    expect(files.links.get(`${GRUB2}/grubenv`)).toBe('../efi/EFI/redhat/grubenv');
    expect(files.files.has(`${GRUB2}/grubenv`)).toBe(false);
    expect(files.files.get(ESP_ENV)).toContain(`saved_entry=${id('B-1-0+1')}\nnext_entry=${id('B-1-0+2')}\n`);
    expect(runner.commandLines).toContain(
      `grub2-editenv /boot/efi/EFI/redhat/.grubenv.imgbased-new set next_entry=${id('B-1-0+2')}`,
    );
    expect(await p.state()).toMatchObject({ defaultId: id('B-1-0+1'), nextId: id('B-1-0+2') });
  });
});
