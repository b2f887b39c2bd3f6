import { beforeEach, describe, expect, it } from 'vitest';
import type { BootEntry, DesiredBootEntry } from '../contracts/bootloader.js';
import type { BootConfiguration, BootloaderPlugin } from '../contracts/bootloader-plugin.js';
import type { EngineEvent } from '../events.js';
import { MemoryBootFiles } from '../testing/memory-boot-files.js';
import { entryIdForLayer } from './entries.js';
import { bootFiles } from './files.js';
import { ManagedBootloader } from './managed-bootloader.js';

const CONF = '/boot/tiny.json';
const id = entryIdForLayer;

interface Tiny {
  entries: BootEntry[];
  defaultId?: string | undefined;
  nextId?: string | undefined;
}

let files: MemoryBootFiles;
let fsType: string;
/** What the plugin saw at each write: the files on /boot at that moment. */
let seenAtWrite: string[][];
let failWrite: boolean;
let filesPerWrite: number;

/** A minimal plugin: its whole configuration is one JSON file; write can be made to fail. */
function tinyPlugin(extra: Partial<BootloaderPlugin<Tiny>> = {}): BootloaderPlugin<Tiny> {
  const replace = bootFiles(files).replace;
  const store = async (tiny: Tiny) => {
    seenAtWrite.push([...files.files.keys()].filter((p) => p.startsWith('/boot/')).sort());
    if (failWrite) throw new Error('the bootloader said no');
    await replace(CONF, JSON.stringify(tiny));
    return { filesReplaced: filesPerWrite };
  };
  return {
    name: 'tiny',
    detect: async () => files.files.has(CONF),
    locate: async () => ({ root: '/boot', config: CONF }),
    async read(): Promise<BootConfiguration<Tiny>> {
      const text = await files.read(CONF);
      const tiny: Tiny = text === undefined ? { entries: [] } : JSON.parse(text);
      return { entries: tiny.entries, defaultId: tiny.defaultId, nextId: tiny.nextId, parsed: tiny };
    },
    write: (_location, change, before) =>
      store({
        entries: [
          ...change.entries.map((e) => ({ ...e, layer: e.layer })),
          ...before.parsed.entries.filter((e) => e.layer === undefined),
        ],
        defaultId: change.defaultId,
      }),
    writeDefault: (_location, entryId, before) => store({ ...before.parsed, defaultId: entryId }),
    ...extra,
  };
}

function managed(plugin: BootloaderPlugin<Tiny> = tinyPlugin()): ManagedBootloader {
  return new ManagedBootloader(plugin, files, { filesystemType: async () => fsType });
}

function layer(name: string, files_: DesiredBootEntry['files'] = { kernel: '/src/vmlinuz' }): DesiredBootEntry {
  return { layer: name, title: name, version: '6.1', options: [`img.bootid=${name}`], files: files_ };
}
const kept = (name: string) => ({ onBootPartition: { kernel: `/${name}/vmlinuz` } });
const FOREIGN: BootEntry = {
  id: 'rescue',
  title: 'Rescue',
  version: '',
  kernel: '/r',
  initrd: undefined,
  options: [],
  layer: undefined,
};

beforeEach(() => {
  files = new MemoryBootFiles();
  files.files.set('/src/vmlinuz', 'KERNEL');
  files.files.set('/src/vmlinuz-new', 'NEW KERNEL');
  fsType = 'ext4';
  seenAtWrite = [];
  failWrite = false;
  filesPerWrite = 1;
});

describe('ManagedBootloader', () => {
  it('stages kernels before the plugin writes, and prunes the files of removed entries only after', async () => {
    const boot = managed();
    expect(await boot.writeEntries([layer('B-1-0+1')])).toEqual({ atomic: true });
    expect(seenAtWrite[0]).toContain('/boot/B-1-0+1/vmlinuz');
    await boot.writeEntries([layer('B-1-0+2')]);
    expect(seenAtWrite[1]).toEqual(expect.arrayContaining(['/boot/B-1-0+1/vmlinuz', '/boot/B-1-0+2/vmlinuz']));
    expect(files.files.has('/boot/B-1-0+1/vmlinuz')).toBe(false);
    expect((await boot.state()).defaultId).toBe(id('B-1-0+2'));
    await boot.writeEntries([layer('B-1-0+3')], { keepFiles: true });
    expect(files.files.has('/boot/B-1-0+2/vmlinuz')).toBe(true);
  });

  it('when the plugin fails to write, removes what it staged but never a directory an installed entry names', async () => {
    // An installed entry of B-1-0+1 booting a kernel outside its directory: B-1-0+1's directory is
    // made new by this write, yet an installed entry names the layer, so it stays.
    files.files.set(CONF, JSON.stringify({ entries: [{ ...FOREIGN, id: id('B-1-0+1'), layer: 'B-1-0+1' }] }));
    failWrite = true;
    const before = files.files.get(CONF);
    await expect(managed().writeEntries([layer('B-1-0+1'), layer('B-1-0+2')])).rejects.toMatchObject({
      code: 'E_BOOT_WRITE_FAILED',
      details: { path: CONF },
    });
    expect(seenAtWrite[0]).toEqual(expect.arrayContaining(['/boot/B-1-0+1/vmlinuz', '/boot/B-1-0+2/vmlinuz']));
    expect(files.files.has('/boot/B-1-0+2/vmlinuz')).toBe(false);
    expect(files.files.has('/boot/B-1-0+1/vmlinuz')).toBe(true);
    expect(files.files.get(CONF)).toBe(before);
  });

  it('keeps the default when its entry stays, else takes the newest; refuses to remove the last entry', async () => {
    const boot = managed();
    await boot.writeEntries([layer('B-1-0+1'), layer('B-1-0+2')]);
    expect((await boot.state()).defaultId).toBe(id('B-1-0+2'));
    await boot.setDefault(id('B-1-0+1'));
    await boot.writeEntries([layer('B-1-0+1', kept('B-1-0+1')), layer('B-1-0+3')]);
    expect((await boot.state()).defaultId).toBe(id('B-1-0+1'));
    await expect(boot.setDefault('nope')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    await boot.writeEntries([layer('B-1-0+3', kept('B-1-0+3'))]);
    await expect(boot.writeEntries([])).rejects.toMatchObject({ code: 'E_BOOT_LAST_ENTRY' });
  });

  it('in a dry run reads and validates, describes the change, and writes nothing', async () => {
    const boot = managed();
    await boot.writeEntries([layer('B-1-0+1')]);
    const before = files.snapshot();
    const events: EngineEvent[] = [];
    const dry = { dryRun: true, report: (e: EngineEvent) => events.push(e) };
    await boot.writeEntries([layer('B-1-0+2', { kernel: '/src/vmlinuz-new' })], {}, dry);
    await boot.setDefault(id('B-1-0+1'), dry);
    await expect(
      managed(tinyPlugin({ oneShot: { available: async () => true, set: async () => {} } })).setNextBoot(
        id('B-1-0+1'),
        dry,
      ),
    ).resolves.toEqual({ atomic: true });
    expect(files.snapshot()).toBe(before);
    expect(seenAtWrite).toHaveLength(1);
    expect(events.map((e) => (e.type === 'step' ? e.message : e.type))).toEqual([
      `Would write ${CONF}: ${id('B-1-0+2')}`,
      `Would make ${id('B-1-0+1')} the default (tiny)`,
      `Would boot ${id('B-1-0+1')} once (tiny)`,
    ]);
    files.files.set(CONF, '{garbage');
    await expect(boot.writeEntries([layer('B-1-0+2')], {}, dry)).rejects.toMatchObject({
      code: 'E_BOOT_CONFIG_INVALID',
    });
  });

  it('types read errors: an errno is a write failure, anything else an invalid configuration, untouched', async () => {
    files.files.set(CONF, '{garbage');
    const before = files.snapshot();
    await expect(managed().writeEntries([layer('B-1-0+1')])).rejects.toMatchObject({
      code: 'E_BOOT_CONFIG_INVALID',
      details: { file: CONF },
    });
    await expect(managed().state()).rejects.toMatchObject({ code: 'E_BOOT_CONFIG_INVALID' });
    expect(files.snapshot()).toBe(before);
    const unreadable = tinyPlugin({
      read: async () => {
        throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      },
    });
    await expect(managed(unreadable).setDefault('x')).rejects.toMatchObject({
      code: 'E_BOOT_WRITE_FAILED',
      details: { path: CONF, reason: 'EIO' },
    });
    expect(files.snapshot()).toBe(before);
  });

  it('one-shot: unsupported without the capability or where it is not available; the plugin sets it otherwise', async () => {
    files.files.set(CONF, JSON.stringify({ entries: [FOREIGN] }));
    await expect(managed().setNextBoot('rescue')).rejects.toMatchObject({ code: 'E_BOOT_UNSUPPORTED' });
    expect((await managed().capabilities()).nativeOneShot).toBe(false);
    const set: string[] = [];
    let available = false;
    const withOneShot = managed(
      tinyPlugin({
        oneShot: { available: async () => available, set: async (_l, entryId) => void set.push(entryId) },
      }),
    );
    await expect(withOneShot.setNextBoot('rescue')).rejects.toMatchObject({ code: 'E_BOOT_UNSUPPORTED' });
    expect(set).toEqual([]);
    available = true;
    expect((await withOneShot.capabilities()).nativeOneShot).toBe(true);
    await expect(withOneShot.setNextBoot('nope')).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    expect(await withOneShot.setNextBoot('rescue')).toEqual({ atomic: true });
    expect(set).toEqual(['rescue']);
  });

  it('reports writes on FAT, and writes of more than one file, as not atomic', async () => {
    const boot = managed(tinyPlugin({ bootCounting: true }));
    expect(await boot.capabilities()).toEqual({ atomicSwap: true, nativeOneShot: false, nativeBootCounting: true });
    filesPerWrite = 2;
    expect(await boot.writeEntries([layer('B-1-0+1')])).toEqual({ atomic: false });
    filesPerWrite = 1;
    fsType = 'vfat';
    expect((await boot.capabilities()).atomicSwap).toBe(false);
    expect(await boot.writeEntries([layer('B-1-0+2')])).toEqual({ atomic: false });
    expect(await boot.setDefault(id('B-1-0+2'))).toEqual({ atomic: false });
  });
});
