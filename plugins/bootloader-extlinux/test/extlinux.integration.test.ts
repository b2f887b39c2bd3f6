import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BootFileOps, bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader } from '@imgbased/core';
import { ExecaCommandRunner, FindmntHostInfo, nodeBootFileOps } from '@imgbased/system';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import extlinuxPlugin from '../src/index.js';

// Real files on a tmpfs boot partition (the real reader, syslinux, runs in the VM boot tests).
// Needs root (mount).
const runner = new ExecaCommandRunner();
let work: string;
let boot: string;
const id = entryIdForLayer;
const FOREIGN = 'PROMPT 0\nTIMEOUT 50\nDEFAULT rescue\n\nLABEL rescue\n  KERNEL /rescue/vmlinuz\n  APPEND ro\n';

function tool(argv: string[], okExitCodes = [0]) {
  return runner.run({ argv, mutates: false, okExitCodes });
}

/** The host's own probe: the file system type (tmpfs here, vfat on a FAT ESP) from findmnt. */
const host = new FindmntHostInfo(runner);

/** The plugin made through its definition over `ops` (Node's fs, or a wrapper that cuts), run by core. */
function plugin(ops: BootFileOps = nodeBootFileOps): ManagedBootloader {
  const services = { runner, files: bootFiles(ops), bootDir: boot, settings: undefined };
  return new ManagedBootloader(extlinuxPlugin.create(services), ops, host);
}

function layer(name: string, files: DesiredBootEntry['files']): DesiredBootEntry {
  return { layer: name, title: `${name} (6.1.0)`, version: '6.1.0', options: [`img.bootid=${name}`], files };
}

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) out[join(f.parentPath, f.name)] = await readFile(join(f.parentPath, f.name), 'latin1');
  }
  return out;
}

let kernel: { kernel: string; initrd: string };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-extlinux-it-'));
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
  await mkdir(join(boot, 'extlinux'));
  await writeFile(join(boot, 'extlinux/extlinux.conf'), FOREIGN);
});
afterEach(async () => {
  await tool(['umount', '-l', boot], [0, 32]);
});

describe('extlinux on a tmpfs /boot', () => {
  it('writes entries and files, keeps the hand-written entry, reports the swap as atomic', async () => {
    const p = plugin();
    expect(await p.detect()).toBe(true);
    expect(await p.capabilities()).toEqual({ atomicSwap: true, nativeOneShot: false, nativeBootCounting: false });
    expect(await p.writeEntries([layer('B-1-0+1', kernel)])).toEqual({ atomic: true });
    await p.setDefault(id('B-1-0+1'));
    const text = await readFile(join(boot, 'extlinux/extlinux.conf'), 'utf8');
    expect(text).toContain(`DEFAULT ${id('B-1-0+1')}\n`);
    expect(text).toContain('LABEL rescue\n  KERNEL /rescue/vmlinuz\n  APPEND ro\n');
    expect(await readFile(join(boot, 'B-1-0+1/initrd.img-6.1.0'), 'utf8')).toBe('INITRD');
  });

  it('leaves /boot byte for byte as it was when it is read-only or its configuration is corrupted', async () => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', kernel)]);
    const before = await tree(boot);
    await tool(['mount', '-o', 'remount,ro', boot]);
    await expect(p.writeEntries([layer('B-1-0+2', kernel)])).rejects.toMatchObject({ code: 'E_BOOT_WRITE_FAILED' });
    await expect(p.setDefault(id('B-1-0+1'))).rejects.toMatchObject({ code: 'E_BOOT_WRITE_FAILED' });
    await tool(['mount', '-o', 'remount,rw', boot]);
    expect(await tree(boot)).toEqual(before);
    await writeFile(join(boot, 'extlinux/extlinux.conf'), `${FOREIGN}LABEL empty\n`);
    const corrupted = await tree(boot);
    await expect(p.writeEntries([layer('B-1-0+2', kernel)])).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    expect(await tree(boot)).toEqual(corrupted);
  });

  it('leaves a configuration naming only kernels that are there, wherever the write is cut', async () => {
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      await writeFile(join(boot, 'extlinux/extlinux.conf'), FOREIGN);
      for (const d of await readdir(boot))
        if (d.startsWith('B-') || d.startsWith('.')) await rm(join(boot, d), { recursive: true });
      await plugin().writeEntries([layer('B-1-0+1', kernel)]);
      const done = await plugin(cutAt(nodeBootFileOps, cut))
        .writeEntries([layer('B-1-0+2', kept('B-1-0+1'))])
        .then(
          () => true,
          () => false,
        );
      const conf = await readFile(join(boot, 'extlinux/extlinux.conf'), 'utf8');
      const kernels = [...conf.matchAll(/^\tLINUX (\S+)/gm)].map((m) => m[1]!);
      expect(kernels.length).toBe(1);
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
