// Boot entries the original imgbased (1.2.x) wrote with grubby, on a grub with blscfg: recognised
// as their layers' entries, kept byte for byte, made default, replaced (never doubled) and removed
// with their kernels.
import { bootFiles, type DesiredBootEntry, entryIdForLayer, keptFiles, ManagedBootloader } from '@imgbased/core';
import { MemoryBootFiles } from '@imgbased/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import grubBlsPlugin from './index.js';
import { grubBlsSettings } from './settings.js';
import { environmentBlock, fakeEditenv } from './testing/fake-editenv.js';

const KVER = '5.14.0-388.el9.x86_64';
const NVR = 'ovirt-node-ng-4.5.5-0.20231130.0';
const LAYER = `${NVR}+1`;
const ENTRIES = '/boot/loader/entries';
const ORIGINAL_FILE = `${ENTRIES}/${LAYER}-${KVER}.conf`;
/** What grubby wrote for the original: its own keys too (dropping grub_arg --unrestricted locks the entry). */
const ORIGINAL_TEXT = `title ${NVR} (${KVER})
version ${KVER}
linux /${LAYER}/vmlinuz-${KVER}
initrd /${LAYER}/initramfs-${KVER}.img
options crashkernel=auto rd.lvm.lv=onn/${LAYER} root=/dev/onn/${LAYER} boot=UUID=0e6b4c33 rootflags=discard img.bootid=${LAYER}
grub_users $grub_users
grub_arg --unrestricted
grub_class kernel
`;

let files: MemoryBootFiles;

function bootloader(): ManagedBootloader {
  const made = grubBlsPlugin.create({
    runner: fakeEditenv(files),
    files: bootFiles(files),
    bootDir: '/boot',
    settings: grubBlsSettings.parse({}),
  });
  return new ManagedBootloader(made, files, { filesystemType: async () => 'ext4' });
}

/** The installed entries as the engine keeps them: each with its own id, title, arguments and files. */
async function keptSet(p: ManagedBootloader): Promise<DesiredBootEntry[]> {
  return (await p.state()).entries
    .filter((e) => e.layer !== undefined)
    .map((e) => ({
      id: e.id,
      layer: e.layer!,
      title: e.title,
      version: e.version,
      options: e.options,
      files: keptFiles(e),
    }));
}

function newLayer(name: string, from: string): DesiredBootEntry {
  return {
    layer: name,
    title: `${name} (${KVER})`,
    version: KVER,
    options: [`rd.lvm.lv=onn/${name}`, `root=/dev/onn/${name}`, 'rootflags=discard', `img.bootid=${name}`],
    files: { onBootPartition: { kernel: `/${from}/vmlinuz-${KVER}`, initrd: `/${from}/initramfs-${KVER}.img` } },
  };
}

beforeEach(() => {
  files = new MemoryBootFiles();
  files.files.set('/boot/grub2/grub.cfg', 'insmod blscfg\nblscfg\n');
  // The original put the entry's title in saved_entry, not its id.
  files.files.set('/boot/grub2/grubenv', environmentBlock({ saved_entry: `${NVR} (${KVER})` }));
  files.files.set(ORIGINAL_FILE, ORIGINAL_TEXT);
  files.files.set(`/boot/${LAYER}/vmlinuz-${KVER}`, 'KERNEL');
  files.files.set(`/boot/${LAYER}/initramfs-${KVER}.img`, 'INITRD');
  files.files.set(`/boot/vmlinuz-${KVER}`, 'KERNEL'); // the original's copy beside, for FIPS: not ours
});

describe('boot entries the original wrote (grub with blscfg)', () => {
  it('are their layers’ entries, listed once, and the default it set by title is that entry', async () => {
    const state = await bootloader().state();
    expect(state.entries).toHaveLength(1);
    expect(state.entries[0]).toMatchObject({
      id: `${LAYER}-${KVER}`,
      layer: LAYER,
      title: `${NVR} (${KVER})`,
      kernel: `/${LAYER}/vmlinuz-${KVER}`,
    });
    expect(state.defaultId).toBe(`${LAYER}-${KVER}`);
  });

  it('stay byte for byte as they are when a new layer’s entry is added beside them', async () => {
    const p = bootloader();
    await p.writeEntries([...(await keptSet(p)), newLayer(`${NVR}+2`, LAYER)]);
    expect(files.files.get(ORIGINAL_FILE)).toBe(ORIGINAL_TEXT);
    expect(files.files.get(`/boot/${NVR}+2/vmlinuz-${KVER}`)).toBe('KERNEL');
    const state = await p.state();
    expect(state.entries.map((e) => [e.id, e.layer]).sort()).toEqual([
      [entryIdForLayer(`${NVR}+2`), `${NVR}+2`],
      [`${LAYER}-${KVER}`, LAYER],
    ]);
    // The default was kept (it named an entry that stays): the engine moves it in a step of its own.
    expect(state.defaultId).toBe(`${LAYER}-${KVER}`);
  });

  it('are replaced in their own file, keeping grubby’s other lines, when ours rewrites the layer’s entry', async () => {
    const p = bootloader();
    const [entry] = await keptSet(p);
    // As `boot --edit-kernel-args` does, and as a write that names only the layer (no id) would.
    for (const edited of [
      { ...entry!, options: [...entry!.options, 'quiet'] },
      { ...entry!, id: undefined, options: [...entry!.options, 'nomodeset'] },
    ]) {
      await p.writeEntries([edited]);
      const conf = [...files.files.keys()].filter((f) => f.startsWith(`${ENTRIES}/`));
      expect(conf).toEqual([ORIGINAL_FILE]);
      const text = files.files.get(ORIGINAL_FILE)!;
      expect(text).toContain(`options ${edited.options.join(' ')}\n`);
      expect(text).toContain('grub_users $grub_users\ngrub_arg --unrestricted\ngrub_class kernel\n');
      expect(text).toContain(`title ${NVR} (${KVER})\n`);
    }
  });

  it('are made the default by their own id, and removed with their layer’s kernels', async () => {
    const p = bootloader();
    await p.writeEntries([...(await keptSet(p)), newLayer(`${NVR}+2`, LAYER)]);
    await p.setDefault(entryIdForLayer(`${NVR}+2`));
    await p.setDefault(`${LAYER}-${KVER}`);
    expect((await p.state()).defaultId).toBe(`${LAYER}-${KVER}`);

    const others = (await keptSet(p)).filter((e) => e.layer !== LAYER);
    await p.writeEntries(others);
    expect(files.files.has(ORIGINAL_FILE)).toBe(false);
    expect(files.files.has(`/boot/${LAYER}/vmlinuz-${KVER}`)).toBe(false);
    expect(files.files.has(`/boot/vmlinuz-${KVER}`)).toBe(true);
    // The default moved off the entry that left, to the newest one left.
    expect((await p.state()).defaultId).toBe(entryIdForLayer(`${NVR}+2`));
  });
});
