// What a boot write leaves when it fails or is cut half way: every entry of the configuration then in
// force must still name files that exist, and recovery must find what was left behind.
import { beforeEach, describe, expect, it } from 'vitest';
import type { BootEntry, DesiredBootEntry } from '../contracts/bootloader.js';
import type { BootConfiguration, BootloaderPlugin } from '../contracts/bootloader-plugin.js';
import type { EngineEvent } from '../events.js';
import { MemoryBootFiles } from '../testing/memory-boot-files.js';
import { entryIdForLayer } from './entries.js';
import { bootFiles } from './files.js';
import { ManagedBootloader } from './managed-bootloader.js';

const CONF = '/boot/tiny/tiny.json';
const ENV = '/boot/tiny/default';

interface Tiny {
  entries: BootEntry[];
}

let files: MemoryBootFiles;
/** Makes the plugin fail before it swaps its entries in, or after, when it writes the default (a second file). */
let failAt: 'entries' | 'default' | undefined;

/** A plugin with two files, as grub has: the entries, then the default beside them. */
function twoFilePlugin(): BootloaderPlugin<Tiny> {
  const ops = bootFiles(files);
  return {
    name: 'two-file',
    detect: async () => true,
    locate: async () => ({ root: '/boot', config: CONF }),
    async read(): Promise<BootConfiguration<Tiny>> {
      const text = await files.read(CONF);
      const tiny: Tiny = text === undefined ? { entries: [] } : JSON.parse(text);
      return { entries: tiny.entries, defaultId: await files.read(ENV), nextId: undefined, parsed: tiny };
    },
    async write(_location, change) {
      if (failAt === 'entries') throw Object.assign(new Error('ENOSPC writing the entries'), { code: 'ENOSPC' });
      await ops.replace(CONF, JSON.stringify({ entries: change.entries }));
      if (failAt === 'default') throw Object.assign(new Error('EIO writing the default'), { code: 'EIO' });
      if (change.defaultId !== undefined) await ops.replace(ENV, change.defaultId);
      return { filesReplaced: 2 };
    },
    async writeDefault(_location, entryId) {
      await ops.replace(ENV, entryId);
      return { filesReplaced: 1 };
    },
  };
}

function managed(): ManagedBootloader {
  return new ManagedBootloader(twoFilePlugin(), files, { filesystemType: async () => 'ext4' });
}

function layer(name: string, kernel = '/src/vmlinuz-6.2'): DesiredBootEntry {
  return { layer: name, title: name, version: '6.2', options: [`img.bootid=${name}`], files: { kernel } };
}

/** Every file that an entry of the configuration in force names, missing ones listed. */
async function missingFiles(): Promise<string[]> {
  const { entries } = await managed().state();
  const named = entries.flatMap((e) => [e.kernel, e.initrd]).filter((p) => p !== undefined);
  return named.filter((p) => !files.files.has(`/boot${p}`));
}

beforeEach(() => {
  files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz-6.1', 'OLD KERNEL');
  files.files.set('/src/vmlinuz-6.2', 'NEW KERNEL');
  failAt = undefined;
});

describe('ManagedBootloader, a write that fails half way', () => {
  it('keeps the kernel directory of an entry the plugin swapped in before it failed', async () => {
    await managed().writeEntries([layer('B-1-0+1')]);
    failAt = 'default';
    await expect(
      managed().writeEntries([layer('B-1-0+1', '/boot/B-1-0+1/vmlinuz-6.2'), layer('B-1-0+2')]),
    ).rejects.toMatchObject({ code: 'E_BOOT_WRITE_FAILED' });
    expect((await managed().state()).entries.map((e) => e.layer)).toEqual(['B-1-0+1', 'B-1-0+2']);
    expect(await missingFiles()).toEqual([]);
  });

  it('never removes the directory of an installed entry to put a kernel of another name there', async () => {
    await managed().writeEntries([layer('B-1-0+1', '/src/vmlinuz-6.1')]);
    failAt = 'entries';
    await expect(managed().writeEntries([layer('B-1-0+1', '/src/vmlinuz-6.2')])).rejects.toMatchObject({
      code: 'E_BOOT_WRITE_FAILED',
    });
    expect(await missingFiles()).toEqual([]);
  });

  it('cut at any step (a kill), leaves a configuration whose every entry names files that exist', async () => {
    const setUp = async () => {
      files = new MemoryBootFiles();
      files.files.set('/src/vmlinuz-6.1', 'OLD KERNEL');
      files.files.set('/src/vmlinuz-6.2', 'NEW KERNEL');
      await managed().writeEntries([layer('B-1-0+1', '/src/vmlinuz-6.1'), layer('B-1-0+2', '/src/vmlinuz-6.1')]);
      files.steps = 0;
    };
    // A new kernel for B-1-0+1 (another file name), a new entry B-1-0+3, and B-1-0+2 removed.
    const change = [layer('B-1-0+1', '/src/vmlinuz-6.2'), layer('B-1-0+3')];
    await setUp();
    await managed().writeEntries(change);
    const total = files.steps;
    expect(total).toBeGreaterThan(8);
    for (let cut = 1; cut <= total; cut++) {
      await setUp();
      files.crashAt = cut;
      await managed()
        .writeEntries(change)
        .catch(() => undefined);
      files.crashAt = Number.POSITIVE_INFINITY;
      expect(await missingFiles(), `cut at step ${cut}`).toEqual([]);
    }
  });

  it('a failure of the cleanup after the swap is a warning: the write is done, recovery finds the files', async () => {
    await managed().writeEntries([layer('B-1-0+1'), layer('B-1-0+2')]);
    const events: EngineEvent[] = [];
    const original = files.remove.bind(files);
    files.remove = async (path) => {
      if (path === '/boot/B-1-0+1') throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
      return original(path);
    };
    await managed().writeEntries(
      [layer('B-1-0+2', '/boot/B-1-0+2/vmlinuz-6.2')],
      {},
      {
        report: (e) => events.push(e),
      },
    );
    expect(events.filter((e) => e.type === 'warning')).toHaveLength(1);
    files.remove = original;
    const own = await managed().ownFiles();
    expect([...own.layerDirs].sort()).toEqual(['B-1-0+1', 'B-1-0+2']);
    await managed().removeOwnFiles(['/boot/B-1-0+1', '/boot/B-1-0+2', '/boot/tiny']);
    expect(files.files.has('/boot/B-1-0+1/vmlinuz-6.2')).toBe(false);
    expect(files.files.has('/boot/B-1-0+2/vmlinuz-6.2')).toBe(true);
    expect(files.files.has(CONF)).toBe(true);
  });
});

describe('ManagedBootloader.ownFiles', () => {
  it('lists layer directories and staging leftovers at the root and beside the configuration, nothing else', async () => {
    await managed().writeEntries([layer('B-1-0+1')]);
    files.files.set('/boot/.B-1-0+2.imgbased-new/vmlinuz-6.2', 'K');
    files.files.set('/boot/tiny/.tiny.json.imgbased-new', '{');
    files.files.set('/boot/grub2/grub.cfg', '');
    files.files.set('/boot/vmlinuz-6.1', 'K');
    files.files.set('/boot/Not A Layer/x', '');
    expect(await managed().ownFiles()).toEqual({
      root: '/boot',
      layerDirs: ['B-1-0+1'],
      leftovers: ['/boot/.B-1-0+2.imgbased-new', '/boot/tiny/.tiny.json.imgbased-new'],
    });
  });

  it('allows an empty set only when asked (recovery), and keeps a missing default unset with keepDefault', async () => {
    await managed().writeEntries([layer('B-1-0+1')], { keepDefault: true });
    expect((await managed().state()).defaultId).toBeUndefined();
    await managed().setDefault(entryIdForLayer('B-1-0+1'));
    await expect(managed().writeEntries([])).rejects.toMatchObject({ code: 'E_BOOT_LAST_ENTRY' });
    await managed().writeEntries([], { allowNoEntries: true });
    expect((await managed().state()).entries).toEqual([]);
    expect(files.files.has('/boot/B-1-0+1/vmlinuz-6.2')).toBe(false);
  });
});
