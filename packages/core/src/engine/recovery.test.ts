// One recovery for the whole host state: what a killed or failed operation leaves in LVM, the boot
// configuration, /boot and the mount table is repaired by the next change (or listed by recoveryPlan).
import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import { Tags } from '../layout/tags.js';
import {
  FixedHost,
  foreignEntry,
  installedLayerEntry,
  MemoryBootloader,
  MemoryLock,
  MemoryVolumeManager,
  RecordingFilesystem,
} from '../testing/index.js';
import { ImageEngine } from './engine.js';

let volumes: MemoryVolumeManager;
let filesystem: RecordingFilesystem;
let boot: MemoryBootloader;
let lock: MemoryLock;
let host: FixedHost;
const id = entryIdForLayer;

function engine(): ImageEngine {
  return new ImageEngine(volumes, filesystem, host, lock, boot);
}

/** A layer volume as a killed `layer --add` leaves it: made, still tagged pending. */
function pendingLayer(name: string, origin: string): void {
  volumes.addVolume({ vg: 'onn', name, pool: 'pool00', origin, tags: [Tags.layer, Tags.pending], active: true });
}

/** Every entry names a committed layer, once; the default is an entry; no file of a layer that is not there. */
async function expectConsistent(): Promise<void> {
  const layout = await engine().layout();
  const layers = layout.bases.flatMap((b) => b.layers.map((l) => l.name));
  const own = boot.entries.filter((e) => e.layer !== undefined).map((e) => e.layer!);
  expect(layout.incomplete).toEqual([]);
  expect(
    own.filter((l) => !layers.includes(l)),
    'entries of layers that are not committed',
  ).toEqual([]);
  expect(new Set(own).size, 'one entry per layer').toBe(own.length);
  expect(
    boot.entries.map((e) => e.id),
    'the default is an entry',
  ).toContain(boot.defaultId);
  expect([...boot.files].filter((f) => !layers.includes(f.slice('/boot/'.length)))).toEqual([]);
  expect(filesystem.leftovers).toEqual([]);
  expect(lock.holder).toBeUndefined();
}

beforeEach(async () => {
  volumes = MemoryVolumeManager.thinpHost();
  filesystem = new RecordingFilesystem();
  lock = new MemoryLock();
  host = new FixedHost();
  // A separate /boot with the running kernel: layers without an entry to copy boot it.
  host.directories['/boot'] = [`vmlinuz-${host.kernel}`];
  boot = new MemoryBootloader();
  boot.entries = [foreignEntry()];
  await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
  // The first layer's entry, as the installer left it.
  boot.entries = [installedLayerEntry('Base-1-0+1'), foreignEntry()];
  boot.files.add('/boot/Base-1-0+1');
  boot.defaultId = id('Base-1-0+1');
});

describe('a kill after the boot entry was written', () => {
  // What `layer --add` killed (SIGKILL) right after writing the entry leaves: the volume pending, its
  // entry and its kernel directory.
  function killedAfterEntry(): void {
    pendingLayer('Base-1-0+2', 'Base-1-0+1');
    boot.entries.splice(1, 0, installedLayerEntry('Base-1-0+2'));
    boot.files.add('/boot/Base-1-0+2');
  }

  it('the next change removes the entry and files with the volume; layer --add again writes one entry', async () => {
    killedAfterEntry();
    const result = await engine().addLayer();
    expect(result.recovered).toEqual(['Base-1-0+2']);
    expect(boot.entries.filter((e) => e.layer === 'Base-1-0+2')).toHaveLength(1);
    expect(boot.defaultId).toBe(id('Base-1-0+2'));
    await expectConsistent();
  });

  it('any changing verb reconciles the boot configuration first, even one that writes no entry', async () => {
    killedAfterEntry();
    boot.defaultId = id('Base-1-0+2');
    await engine().addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    expect(boot.entries.map((e) => e.layer)).toEqual(['Base-1-0+1', undefined]);
    expect(boot.defaultId).toBe(id('Base-1-0+1'));
    await expectConsistent();
  });

  it('recoveryPlan lists the repairs and changes nothing', async () => {
    killedAfterEntry();
    boot.files.add('/boot/.Base-1-0+3.imgbased-new');
    filesystem.leftovers.push({ directory: '/tmp/imgbased-mnt-4242-x/root', source: '/dev/mapper/onn-Base--1--0+2' });
    const before = [volumes.snapshot(), boot.snapshot(), [...boot.files].join()];
    const plan = await engine().recoveryPlan();
    expect(plan.steps.map((s) => [s.kind, s.targets])).toEqual([
      ['unmount', ['/tmp/imgbased-mnt-4242-x/root']],
      ['remove-boot-entries', ['Base-1-0+2']],
      ['remove-boot-files', ['/boot/Base-1-0+2', '/boot/.Base-1-0+3.imgbased-new']],
      ['remove-volume', ['Base-1-0+2']],
    ]);
    expect([volumes.snapshot(), boot.snapshot(), [...boot.files].join()]).toEqual(before);
    await engine().setDefaultBoot('Base-1-0+1');
    expect((await engine().recoveryPlan()).steps).toEqual([]);
    await expectConsistent();
  });
});

describe('recovery repairs the boot configuration', () => {
  it('keeps one entry per layer (the newest written), and moves a default or one-shot that names no entry', async () => {
    await engine().addLayer();
    boot.entries.push({ ...installedLayerEntry('Base-1-0+2'), title: 'newest' });
    boot.defaultId = 'imgbased-gone';
    boot.nextId = id('Base-1-0+9');
    const result = await engine().setNextBoot('Base-1-0+1');
    expect(result.entry).toBe(id('Base-1-0+1'));
    expect(boot.entries.filter((e) => e.layer === 'Base-1-0+2').map((e) => e.title)).toEqual(['newest']);
    expect(boot.defaultId).toBe(id('Base-1-0+2'));
    await expectConsistent();
  });

  it('removes every entry of an unfinished layout --init, even the last one', async () => {
    volumes.groups[0]!.tags.push(Tags.pending);
    boot.entries = [installedLayerEntry('Base-1-0+1')];
    boot.log.length = 0;
    await engine().initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
    // Recovery emptied the configuration (its only entry names a volume of the unfinished init); init wrote it anew.
    expect(boot.log).toEqual(['write ', 'write Base-1-0+1', `default ${id('Base-1-0+1')}`]);
    expect(boot.entries.map((e) => e.layer)).toEqual(['Base-1-0+1']);
    await expectConsistent();
  });

  it('unmounts what a killed imgbased left mounted before it removes the volume (a mount blocks lvremove)', async () => {
    pendingLayer('Base-1-0+2', 'Base-1-0+1');
    filesystem.leftovers.push({ directory: '/tmp/imgbased-mnt-4242-x/root', source: '/dev/onn/Base-1-0+2' });
    const remove = volumes.remove.bind(volumes);
    volumes.remove = async (ref, context) => {
      if (filesystem.leftovers.some((m) => m.source === `/dev/${ref.vg}/${ref.name}`))
        throw new Error(`Logical volume ${ref.vg}/${ref.name} contains a filesystem in use.`);
      return remove(ref, context);
    };
    const result = await engine().addLayer();
    expect(result.recovered).toEqual(['Base-1-0+2']);
    expect(filesystem.calls).toContain('unmount /tmp/imgbased-mnt-4242-x/root');
    await expectConsistent();
  });
});

describe('base --remove', () => {
  beforeEach(async () => {
    await engine().addLayer();
    await engine().addBase({ nvr: 'Base-2-0', sizeBytes: 2 ** 30 });
    await engine().addLayer({ from: 'Base-2-0' });
    await engine().setDefaultBoot('Base-1-0+2');
  });

  it('removes the /boot/<layer>/ directories of the removed layers', async () => {
    expect([...boot.files].sort()).toEqual(['/boot/Base-1-0+1', '/boot/Base-1-0+2', '/boot/Base-2-0+1']);
    await engine().removeBase('Base-1-0');
    expect([...boot.files]).toEqual(['/boot/Base-2-0+1']);
    expect(boot.defaultId).toBe(id('Base-2-0+1'));
    await expectConsistent();
  });

  it('a failure after the first lvremove restores only the entries of the volumes still there', async () => {
    let removals = 0;
    const remove = volumes.remove.bind(volumes);
    volumes.remove = async (ref, context) => {
      if (++removals === 2) throw new Error('lvremove failed');
      return remove(ref, context);
    };
    await expect(engine().removeBase('Base-1-0')).rejects.toThrow('lvremove failed');
    const present = volumes.volumes.map((v) => v.name);
    expect(present).not.toContain('Base-1-0+2');
    expect(boot.entries.map((e) => e.layer)).toEqual(['Base-1-0+1', 'Base-2-0+1', undefined]);
    expect(volumes.find('Base-1-0+1')!.tags).toEqual([Tags.layer]);
    volumes.remove = remove;
    await expectConsistent();
  });
});

describe('a boot write that fails half way', () => {
  it('is undone with the layer: the entry it wrote goes, the default stays', async () => {
    const before = [volumes.snapshot(), boot.snapshot()];
    boot.failAfterWrite = new Error('EIO after the swap');
    await expect(engine().addLayer()).rejects.toThrow('EIO after the swap');
    expect([volumes.snapshot(), boot.snapshot()]).toEqual(before);
  });

  it('the default moves only once the new layer is committed', async () => {
    const setDefault = boot.setDefault.bind(boot);
    const pendingAtDefault: string[][] = [];
    boot.setDefault = async (entryId) => {
      pendingAtDefault.push(volumes.volumes.filter((v) => v.tags.includes(Tags.pending)).map((v) => v.name));
      return setDefault(entryId);
    };
    await engine().addLayer();
    expect(pendingAtDefault).toEqual([[]]);
    expect(boot.defaultId).toBe(id('Base-1-0+2'));
  });
});

describe('recovery and a bootloader that cannot be used', () => {
  it('leaves the boot configuration alone, with a warning, and still removes half-made volumes', async () => {
    pendingLayer('Base-1-0+2', 'Base-1-0+1');
    const missing = {
      select: async () => {
        throw new Error('no extlinux on this host');
      },
    };
    const warnings: string[] = [];
    const e = new ImageEngine(volumes, filesystem, host, lock, missing);
    const result = await e.addBase(
      { nvr: 'Base-2-0', sizeBytes: 2 ** 30 },
      { report: (event) => event.type === 'warning' && warnings.push(event.message) },
    );
    expect(result.recovered).toEqual(['Base-1-0+2']);
    expect(warnings).toEqual(['recovery left the boot configuration alone: Error: no extlinux on this host']);
  });
});
