import { describe, expect, it } from 'vitest';
import type { BootEntry } from '../contracts/bootloader.js';
import type { BootConfiguration, BootloaderPlugin } from '../contracts/bootloader-plugin.js';
import { MemoryBootFiles } from '../testing/memory-boot-files.js';
import { bootFiles } from './files.js';
import { ManagedBootloader } from './managed-bootloader.js';
import { TrialBoots } from './trial-boots.js';

const DEFAULT = '/boot/tiny/default';
const ARMED = '/boot/tiny/armed';

function entry(layer: string): BootEntry {
  return {
    id: `imgbased-${layer}`,
    title: layer,
    version: '6.1',
    kernel: `/${layer}/vmlinuz`,
    initrd: undefined,
    options: [`img.bootid=${layer}`],
    layer,
  };
}

/** A bootloader whose default and armed trial are one file each; `combined` writes the default with the disarm. */
function tinyPlugin(files: MemoryBootFiles, combined: boolean): BootloaderPlugin<null> {
  const ops = bootFiles(files);
  return {
    name: 'tiny',
    detect: async () => true,
    locate: async () => ({ root: '/boot', config: DEFAULT }),
    async read(): Promise<BootConfiguration<null>> {
      return {
        entries: [entry('B-1-0+1'), entry('B-2-0+1')],
        defaultId: await files.read(DEFAULT),
        nextId: undefined,
        parsed: null,
      };
    },
    write: async () => ({ filesReplaced: 0 }),
    async writeDefault(_location, id) {
      await ops.replace(DEFAULT, id);
      return { filesReplaced: 1 };
    },
    trial: {
      protocol: 'grub-counter',
      async armed() {
        const text = await files.read(ARMED);
        if (text === undefined) return undefined;
        const [entryId, left] = text.split(' ');
        return { entryId: entryId as string, left: Number(left) };
      },
      async arm(_location, entryId, left) {
        await ops.replace(ARMED, `${entryId} ${left}`);
      },
      async disarm(_location, _before, makeDefault) {
        await ops.removeDurably(ARMED);
        if (combined && makeDefault !== undefined) await ops.replace(DEFAULT, makeDefault);
        return { defaultWritten: combined && makeDefault !== undefined };
      },
    },
  };
}

function managed(files: MemoryBootFiles, combined = true) {
  return new ManagedBootloader(tinyPlugin(files, combined), files, { filesystemType: async () => 'ext4' });
}

describe('ManagedTrialBootloader', () => {
  it('maps layers to entry ids both ways, and keeps the record at <boot>/imgbased/trial.json', async () => {
    for (const combined of [true, false]) {
      const files = new MemoryBootFiles();
      files.files.set(DEFAULT, 'imgbased-B-1-0+1');
      const bootloader = managed(files, combined).trial();
      if (bootloader === undefined) throw new Error('trial expected');
      const trials = new TrialBoots(bootloader, { tries: 2, onFailure: 'reboot' });
      await trials.start('B-2-0+1');
      expect(files.files.get(ARMED)).toBe('imgbased-B-2-0+1 2');
      expect(await bootloader.trialState()).toEqual({ defaultLayer: 'B-1-0+1', armed: { layer: 'B-2-0+1', left: 2 } });
      expect(JSON.parse(files.files.get('/boot/imgbased/trial.json') ?? '{}').trial.layer).toBe('B-2-0+1');
      await trials.markGood('B-2-0+1');
      expect(files.files.get(DEFAULT)).toBe('imgbased-B-2-0+1');
      expect(files.files.has(ARMED)).toBe(false);
      expect((await bootloader.readRecord()).layers['B-2-0+1']?.state).toBe('good');
    }
  });

  it('a layer without an entry, and a plugin without trials', async () => {
    const files = new MemoryBootFiles();
    files.files.set(DEFAULT, 'imgbased-B-1-0+1');
    await expect(managed(files).trial()?.arm('B-9-0+1', 1)).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    const plain = { ...tinyPlugin(files, true), trial: undefined };
    expect(new ManagedBootloader(plain, files, { filesystemType: async () => 'ext4' }).trial()).toBeUndefined();
  });

  it('an I/O error while arming is E_BOOT_WRITE_FAILED', async () => {
    const files = new MemoryBootFiles();
    files.files.set(DEFAULT, 'imgbased-B-1-0+1');
    files.crashAt = files.steps + 1;
    await expect(managed(files).trial()?.arm('B-2-0+1', 1)).rejects.toMatchObject({ code: 'E_BOOT_WRITE_FAILED' });
  });
});
