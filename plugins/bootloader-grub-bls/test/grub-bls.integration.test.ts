// biome-ignore-all lint/suspicious/noTemplateCurlyInString: grub script in strings
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BootFileOps, bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader } from '@imgbased/core';
import { ExecaCommandRunner, FindmntHostInfo, nodeBootFileOps } from '@imgbased/system';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import grubBlsPlugin from '../src/index.js';
import { grubBlsSettings } from '../src/settings.js';

// Real files on a tmpfs boot partition, checked by grub's own tools: grub-script-check on the menu file
// (alone and sourced from a grub.cfg), grub-editenv list on the environment block. Needs root (mount).
const runner = new ExecaCommandRunner();
let work: string;
let boot: string;
const id = entryIdForLayer;

function tool(argv: string[], okExitCodes = [0]) {
  return runner.run({ argv, mutates: false, okExitCodes });
}

/** The host's own probe: the file system type (tmpfs here, vfat on a FAT ESP) from findmnt. */
const host = new FindmntHostInfo(runner);

/** The plugin made through its definition over `ops` (Node's fs, or a wrapper that cuts), run by core. */
function plugin(ops: BootFileOps = nodeBootFileOps): ManagedBootloader {
  const services = { runner, files: bootFiles(ops), bootDir: boot, settings: grubBlsSettings.parse({}) };
  return new ManagedBootloader(grubBlsPlugin.create(services), ops, host);
}

function layer(name: string, files: DesiredBootEntry['files'], extra: string[] = []): DesiredBootEntry {
  return {
    layer: name,
    title: `${name} (6.1.0)`,
    version: '6.1.0',
    options: [...extra, `rd.lvm.lv=onn/${name}`, `root=/dev/onn/${name}`, 'rootflags=discard', `img.bootid=${name}`],
    files,
  };
}

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) out[join(f.parentPath, f.name)] = await readFile(join(f.parentPath, f.name), 'latin1');
  }
  return out;
}

async function envList(): Promise<Record<string, string>> {
  const out = await tool(['grub-editenv', join(boot, 'grub/grubenv'), 'list']);
  return Object.fromEntries(
    out.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

let kernel: { kernel: string; initrd: string };
const GRUB_CFG =
  "set timeout=1\nmenuentry 'Debian' --id debian {\n\tlinux /vmlinuz root=/dev/sda1\n}\nsource ${prefix}/imgbased.cfg\n";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-grub-it-'));
  await writeFile(join(work, 'vmlinuz-6.1.0'), 'KERNEL');
  await writeFile(join(work, 'initrd.img-6.1.0'), 'INITRD');
  kernel = { kernel: join(work, 'vmlinuz-6.1.0'), initrd: join(work, 'initrd.img-6.1.0') };
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  boot = join(work, 'boot');
  await mkdir(boot, { recursive: true });
  await tool(['mount', '-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', boot]);
  await mkdir(join(boot, 'grub'));
  await writeFile(join(boot, 'grub/grub.cfg'), GRUB_CFG);
});
afterEach(async () => {
  await tool(['umount', '-l', boot], [0, 32]);
});

describe('grub (menu mode) on a tmpfs /boot, read by grub’s tools', () => {
  it('writes a menu file grub-script-check accepts and an environment block grub-editenv reads', async () => {
    const p = plugin();
    expect(await p.detect()).toBe(true);
    await p.writeEntries([layer('B-1-0+1', kernel, ['quiet', 'x="a b"', 'y=$z;']), layer('B-1-0+2', kernel)]);
    await tool(['grub-script-check', join(boot, 'grub/imgbased.cfg')]);
    await tool(['grub-script-check', join(boot, 'grub/grub.cfg')]);
    expect((await stat(join(boot, 'grub/grubenv'))).size).toBe(1024);
    expect(await envList()).toEqual({ saved_entry: id('B-1-0+2') });
    await p.setDefault(id('B-1-0+1'));
    await p.setNextBoot(id('B-1-0+2'));
    expect(await envList()).toEqual({ saved_entry: id('B-1-0+1'), next_entry: id('B-1-0+2') });
    expect((await stat(join(boot, 'grub/grubenv'))).size).toBe(1024);
    const state = await p.state();
    expect(state).toMatchObject({ defaultId: id('B-1-0+1'), nextId: id('B-1-0+2') });
    expect(state.entries.map((e) => [e.id, e.layer])).toEqual([
      [id('B-1-0+1'), 'B-1-0+1'],
      [id('B-1-0+2'), 'B-1-0+2'],
      ['debian', undefined],
    ]);
    expect(state.entries[0]!.options).toEqual([
      'quiet',
      'x="a b"',
      'y=$z;',
      'rd.lvm.lv=onn/B-1-0+1',
      'root=/dev/onn/B-1-0+1',
      'rootflags=discard',
      'img.bootid=B-1-0+1',
    ]);
    expect(await readFile(join(boot, 'grub/grub.cfg'), 'utf8')).toBe(GRUB_CFG);
  });

  it('the shipped /etc/grub.d/42_imgbased makes grub.cfg source the menu; without it the write warns', async () => {
    const snippet = join(import.meta.dirname, '../grub.d/42_imgbased');
    expect((await stat(snippet)).mode & 0o111).toBe(0o111);
    // grub-mkconfig concatenates each grub.d script's output: do the same with the shipped script.
    const generated = (await tool([snippet])).stdout;
    await writeFile(join(boot, 'grub/grub.cfg'), `set timeout=1\n${generated}`);
    const warnings: string[] = [];
    const report = (e: { type: string; message?: string }) => {
      if (e.type === 'warning') warnings.push(e.message ?? '');
    };
    await plugin().writeEntries([layer('B-1-0+1', kernel)], {}, { report });
    await tool(['grub-script-check', join(boot, 'grub/grub.cfg')]);
    expect(generated).toContain('source "${prefix}/imgbased.cfg"');
    expect(warnings).toEqual([]);

    await writeFile(join(boot, 'grub/grub.cfg'), 'set timeout=1\n');
    await plugin().writeEntries([layer('B-1-0+1', kernel), layer('B-1-0+2', kernel)], {}, { report });
    expect(warnings).toEqual([
      expect.stringContaining('does not source imgbased.cfg: install /etc/grub.d/42_imgbased'),
    ]);
  });

  it('a menu file broken on purpose is what grub-script-check refuses (the check can fail)', async () => {
    await writeFile(join(work, 'broken.cfg'), "menuentry 'x' {\n linux /k\n");
    const result = await tool(['grub-script-check', join(work, 'broken.cfg')], [0, 1]);
    expect(result.exitCode).toBe(1);
  });

  it('blscfg mode writes BLS entries', async () => {
    await writeFile(join(boot, 'grub/grub.cfg'), 'insmod blscfg\nblscfg\n');
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', kernel)]);
    expect(await readFile(join(boot, `loader/entries/${id('B-1-0+1')}.conf`), 'utf8')).toContain(
      'linux /B-1-0+1/vmlinuz-6.1.0\ninitrd /B-1-0+1/initrd.img-6.1.0\n',
    );
    expect(await envList()).toEqual({ saved_entry: id('B-1-0+1') });
  });

  it('edits a grubenv that is a symlink (RHEL with UEFI) at its target, keeping the link', async () => {
    await mkdir(join(boot, 'efi/EFI/redhat'), { recursive: true });
    await tool(['grub-editenv', join(boot, 'efi/EFI/redhat/grubenv'), 'create']);
    await symlink('../efi/EFI/redhat/grubenv', join(boot, 'grub/grubenv'));
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', kernel), layer('B-1-0+2', kernel)]);
    await p.setNextBoot(id('B-1-0+1'));
    expect((await lstat(join(boot, 'grub/grubenv'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(boot, 'grub/grubenv'))).toBe('../efi/EFI/redhat/grubenv');
    expect(await envList()).toEqual({ saved_entry: id('B-1-0+2'), next_entry: id('B-1-0+1') });
    expect((await stat(join(boot, 'efi/EFI/redhat/grubenv'))).size).toBe(1024);
    expect(await readdir(join(boot, 'efi/EFI/redhat'))).toEqual(['grubenv']);
  });

  it('leaves /boot byte for byte as it was when it is read-only, or the block or menu is corrupted', async () => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', kernel)]);
    const before = await tree(boot);
    await tool(['mount', '-o', 'remount,ro', boot]);
    await expect(p.writeEntries([layer('B-1-0+2', kernel)])).rejects.toMatchObject({ code: 'E_BOOT_WRITE_FAILED' });
    await expect(p.setDefault('debian')).rejects.toMatchObject({ code: 'E_BOOT_WRITE_FAILED' });
    await expect(p.setNextBoot(id('B-1-0+1'))).rejects.toMatchObject({ code: 'E_BOOT_WRITE_FAILED' });
    await expect(p.setDefault('no-such-entry')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    await tool(['mount', '-o', 'remount,rw', boot]);
    expect(await tree(boot)).toEqual(before);
    for (const [file, bytes] of [
      ['grub/grubenv', 'x'.repeat(1024)],
      ['grub/imgbased.cfg', '\0\0garbage'],
    ] as const) {
      const good = await readFile(join(boot, file));
      await writeFile(join(boot, file), bytes);
      const corrupted = await tree(boot);
      await expect(p.writeEntries([layer('B-1-0+2', kernel)])).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
      await expect(p.setNextBoot(id('B-1-0+1'))).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
      expect(await tree(boot)).toEqual(corrupted);
      await writeFile(join(boot, file), good);
    }
  });

  it('leaves a menu grub accepts, naming only kernels that are there, wherever the write is cut', async () => {
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      await rm(join(boot, 'grub/imgbased.cfg'), { force: true });
      await rm(join(boot, 'grub/grubenv'), { force: true });
      for (const d of await readdir(boot))
        if (d.startsWith('B-') || d.startsWith('.')) await rm(join(boot, d), { recursive: true });
      await plugin().writeEntries([layer('B-1-0+1', kernel)]);
      const done = await plugin(cutAt(nodeBootFileOps, cut))
        .writeEntries([layer('B-1-0+2', kept('B-1-0+1'))])
        .then(
          () => true,
          () => false,
        );
      await tool(['grub-script-check', join(boot, 'grub/imgbased.cfg')]);
      await envList();
      const menu = await readFile(join(boot, 'grub/imgbased.cfg'), 'utf8');
      const kernels = [...menu.matchAll(/^\tlinux (\S+)/gm)].map((m) => m[1]!);
      expect(kernels.length).toBeGreaterThan(0);
      for (const k of kernels) expect(await readFile(join(boot, k), 'utf8')).toBe('KERNEL');
      if (done) break;
      cuts++;
    }
    expect(cuts).toBeGreaterThan(5);
  });
});

function cutAt(ops: BootFileOps, cut: number): BootFileOps {
  let step = 0;
  const guard =
    <A extends unknown[]>(f: (...a: A) => Promise<void>) =>
    async (...a: A) => {
      if (++step >= cut) throw Object.assign(new Error('cut'), { code: 'ECUT' });
      return f(...a);
    };
  return {
    ...ops,
    writeNew: guard(ops.writeNew),
    copyNew: guard(ops.copyNew),
    mkdir: guard(ops.mkdir),
    rename: guard(ops.rename),
    syncDirectory: guard(ops.syncDirectory),
    remove: guard(ops.remove),
  };
}

/** The files of a layer's installed entry, as a source. */
function kept(layer: string): DesiredBootEntry['files'] {
  return { onBootPartition: { kernel: `/${layer}/vmlinuz-6.1.0`, initrd: `/${layer}/initrd.img-6.1.0` } };
}
