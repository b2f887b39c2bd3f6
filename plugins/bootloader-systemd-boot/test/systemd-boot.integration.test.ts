import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BootFileOps, bootFiles, type DesiredBootEntry, entryIdForLayer, ManagedBootloader } from '@imgbased/core';
import { ExecaCommandRunner, FindmntHostInfo, nodeBootFileOps } from '@imgbased/system';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import systemdBootPlugin from '../src/index.js';
import { systemdBootSettings } from '../src/settings.js';

// Real files on a tmpfs laid out as an ESP, read back by systemd's own bootctl. Needs root (mount).
const runner = new ExecaCommandRunner();
let work: string;
let esp: string;
const id = entryIdForLayer;

function tool(argv: string[], env?: Record<string, string>, okExitCodes = [0]) {
  return runner.run({ argv, mutates: false, env, okExitCodes });
}

/** bootctl's view of the ESP: entries (id, title, tries, paths) and which one is the default. */
async function bootctl(): Promise<{ entries: Record<string, unknown>[]; defaultTitle: string | undefined }> {
  const env = { SYSTEMD_RELAX_ESP_CHECKS: '1' };
  const json = await tool(['bootctl', `--esp-path=${esp}`, '--no-variables', 'list', '--json=short'], env);
  const text = json.stdout.trim();
  const entries =
    text === '' ? [] : text.startsWith('[') ? JSON.parse(text) : text.split('\n').map((l) => JSON.parse(l));
  const human = await tool(['bootctl', `--esp-path=${esp}`, '--no-variables', 'list'], env);
  const defaultTitle = /title: (.*) \(default\)/.exec(human.stdout)?.[1];
  return { entries, defaultTitle };
}

/** The host's own probe: the file system type (tmpfs here, vfat on a FAT ESP) from findmnt. */
const host = new FindmntHostInfo(runner);

/** The plugin made through its definition over `ops` (Node's fs, or a wrapper that cuts), run by core. */
function plugin(tries = 0, ops: BootFileOps = nodeBootFileOps): ManagedBootloader {
  const settings = systemdBootSettings.parse({ esp_dir: esp, boot_counting_tries: String(tries) });
  return new ManagedBootloader(
    systemdBootPlugin.create({ runner, files: bootFiles(ops), bootDir: '/boot', settings }),
    ops,
    host,
  );
}

function layer(name: string, files: DesiredBootEntry['files']): DesiredBootEntry {
  return { layer: name, title: `${name} (6.1.0)`, version: '6.1.0', options: ['quiet', `img.bootid=${name}`], files };
}

/** Every file under a directory with its bytes, to compare before and after. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) out[join(f.parentPath, f.name)] = await readFile(join(f.parentPath, f.name), 'latin1');
  }
  return out;
}

let kernel: { kernel: string; initrd: string };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'imgbased-sdboot-it-'));
  await writeFile(join(work, 'vmlinuz-6.1.0'), 'KERNEL');
  await writeFile(join(work, 'initrd.img-6.1.0'), 'INITRD');
  kernel = { kernel: join(work, 'vmlinuz-6.1.0'), initrd: join(work, 'initrd.img-6.1.0') };
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  esp = join(work, 'esp');
  await mkdir(esp, { recursive: true });
  await tool(['mount', '-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', esp], undefined);
  await mkdir(join(esp, 'loader/entries'), { recursive: true });
  await writeFile(join(esp, 'loader/loader.conf'), 'timeout 3\n');
  await mkdir(join(esp, 'rescue'));
  await writeFile(join(esp, 'rescue/vmlinuz'), 'R');
  await writeFile(join(esp, 'loader/entries/rescue+2-1.conf'), 'title Rescue\nlinux /rescue/vmlinuz\noptions ro\n');
});
afterEach(async () => {
  await tool(['umount', '-l', esp], undefined, [0, 32]);
});

describe('systemd-boot on a tmpfs ESP, read by bootctl', () => {
  it('writes entries bootctl lists, with the default, counters, and the foreign entry kept', async () => {
    const p = plugin(3);
    expect(await p.detect()).toBe(true);
    await p.writeEntries([layer('B-1-0+1', kernel), layer('B-1-0+2', kernel)]);
    await p.setDefault(id('B-1-0+1'));
    const listed = await bootctl();
    // The default keeps counting, named by a pattern: systemd-boot 252 matches `default` against whole file
    // names, counter included (booted: trial-systemd-boot.e2e); bootctl, which strips counters, agrees.
    expect(await readFile(join(esp, 'loader/loader.conf'), 'utf8')).toBe(
      `timeout 3\ndefault ${id('B-1-0+1')}[.+][0-9c]*\n`,
    );
    expect(listed.entries.map((e) => [e.id, e.triesLeft, e.linux]).sort()).toEqual([
      [`${id('B-1-0+1')}.conf`, 3, '/B-1-0+1/vmlinuz-6.1.0'],
      [`${id('B-1-0+2')}.conf`, 3, '/B-1-0+2/vmlinuz-6.1.0'],
      ['rescue.conf', 2, '/rescue/vmlinuz'],
    ]);
    expect(listed.defaultTitle).toBe('B-1-0+1 (6.1.0)');
    expect(listed.entries.find((e) => e.id === `${id('B-1-0+2')}.conf`)).toMatchObject({
      initrd: ['/B-1-0+2/initrd.img-6.1.0'],
      options: 'quiet img.bootid=B-1-0+2',
    });
    expect(await readFile(join(esp, 'B-1-0+2/vmlinuz-6.1.0'), 'utf8')).toBe('KERNEL');
    // Removing a layer's entry removes its files; bootctl then lists the rest.
    await p.writeEntries([layer('B-1-0+2', kept('B-1-0+2'))]);
    expect((await bootctl()).entries.map((e) => e.id).sort()).toEqual([`${id('B-1-0+2')}.conf`, 'rescue.conf']);
    await expect(readdir(join(esp, 'B-1-0+1'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await bootctl()).defaultTitle).toBe('B-1-0+2 (6.1.0)');
  });

  it('leaves the ESP byte for byte as it was when it is read-only, or its configuration corrupted', async () => {
    const p = plugin();
    await p.writeEntries([layer('B-1-0+1', kernel)]);
    const before = await tree(esp);
    await tool(['mount', '-o', 'remount,ro', esp]);
    await expect(p.writeEntries([layer('B-1-0+1', kept('B-1-0+1')), layer('B-1-0+2', kernel)])).rejects.toMatchObject({
      code: 'E_BOOT_WRITE_FAILED',
    });
    await expect(p.setDefault('rescue')).rejects.toMatchObject({ code: 'E_BOOT_WRITE_FAILED' });
    await tool(['mount', '-o', 'remount,rw', esp]);
    expect(await tree(esp)).toEqual(before);
    await writeFile(join(esp, 'loader/entries/broken.conf'), Buffer.from([0, 1, 2, 0xff]));
    const corrupted = await tree(esp);
    await expect(p.writeEntries([layer('B-1-0+2', kernel)])).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    await expect(p.setDefault(id('B-1-0+1'))).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    expect(await tree(esp)).toEqual(corrupted);
  });

  it('leaves a configuration bootctl reads, with every kernel it names, wherever the write is cut', async () => {
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      await tool(['umount', '-l', esp], undefined, [0, 32]);
      await tool(['mount', '-t', 'tmpfs', 'tmpfs', esp]);
      await mkdir(join(esp, 'loader/entries'), { recursive: true });
      await plugin().writeEntries([layer('B-1-0+1', kernel)]);
      const done = await plugin(0, cutAt(nodeBootFileOps, cut))
        .writeEntries([layer('B-1-0+2', kept('B-1-0+1'))])
        .then(
          () => true,
          () => false,
        );
      const listed = await bootctl();
      expect(listed.entries.length).toBeGreaterThan(0);
      for (const e of listed.entries) {
        expect(await readFile(join(esp, e.linux as string), 'utf8')).toBe('KERNEL');
      }
      if (done) break;
      cuts++;
    }
    expect(cuts).toBeGreaterThan(5);
  });
});

/** The same file steps, but the `cut`-th changing one fails as if the machine had stopped there. */
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
