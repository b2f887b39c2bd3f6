import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import type { EngineEvent } from '../events.js';
import { Tags } from '../layout/tags.js';
import { UpdateResultSchema } from '../layout/update-schema.js';
import { runFrom, updateHost } from '../testing/index.js';

let h: Awaited<ReturnType<typeof updateHost>>;
const id = entryIdForLayer;

beforeEach(async () => {
  h = await updateHost();
});

describe('update', () => {
  it('installs the image as a protected base, carries the running layer’s state over, and boots the new layer next', async () => {
    const events: EngineEvent[] = [];
    const result = await h.engine().update({ image: '/images/Base-2-0.img' }, { report: (e) => events.push(e) });
    expect(UpdateResultSchema.parse(result)).toEqual(result);
    expect(result).toMatchObject({
      dryRun: false,
      base: 'Base-2-0',
      layer: 'Base-2-0+1',
      from: { layer: 'Base-1-0+1', why: 'running' },
      image: { given: '/images/Base-2-0.img', format: 'ext4', nvr: 'Base-2-0', nvrFrom: 'os-release', sha256: null },
      created: ['Base-2-0', 'Base-2-0+1'],
      removed: [],
      gc: { keep: 2, removed: [], kept: ['Base-1-0', 'Base-2-0'] },
      boot: { bootloader: 'memory', added: [id('Base-2-0+1')], removed: [], atomic: true },
      bootsNext: 'Base-2-0+1',
      rebootRequired: true,
    });
    expect(result.persistence).toEqual([
      {
        plugin: 'tar-diff',
        copied: ['/etc/hosts'],
        merged: ['/etc/passwd'],
        keptFromNewBase: ['/etc/os-release'],
        deleted: [],
        conflicts: [],
        delta: null,
      },
    ]);
    // The base: made big enough for the image, read-only, skipped at activation, settled.
    expect(h.volumes.find('Base-2-0')).toMatchObject({ sizeBytes: 2 * 1024 ** 3, readOnly: true, tags: [Tags.base] });
    expect(h.volumes.find('Base-2-0+1')).toMatchObject({ origin: 'Base-2-0', tags: [Tags.layer], active: true });
    expect(h.images.calls).toEqual([
      'resolve /images/Base-2-0.img',
      'inspect /images/Base-2-0.img',
      'install /images/Base-2-0.img /dev/onn/Base-2-0',
    ]);
    // The old base is active only while the carry-over reads it.
    expect(h.volumes.find('Base-1-0')!.active).toBe(false);
    expect(h.filesystem.calls).toEqual([
      'regenerateUuid /dev/onn/Base-2-0+1',
      'mount /dev/onn/Base-1-0',
      'mount /dev/onn/Base-1-0+1',
      'mount /dev/onn/Base-2-0+1',
      'mount /dev/onn/Base-2-0+1',
    ]);
    // The running layer is mounted read-write at / already: mounted again read-write (the kernel refuses ro).
    expect(h.filesystem.mounts.slice(0, 3)).toEqual([
      { device: '/dev/onn/Base-1-0', readOnly: true },
      { device: '/dev/onn/Base-1-0+1', readOnly: false },
      { device: '/dev/onn/Base-2-0+1', readOnly: false },
    ]);
    expect(h.persistence.calls).toEqual([
      {
        trees: {
          oldBase: '/mnt/fake',
          oldLayer: '/mnt/fake',
          newLayer: '/mnt/fake',
          // The volumes, so that the plugin may ask the pool what differs (thin_delta).
          volumes: { vg: 'onn', oldBase: 'Base-1-0', oldLayer: 'Base-1-0+1' },
        },
        policy: { paths: ['/etc', '/root'], excludes: [], onConflict: 'keep-admin' },
        options: { dryRun: false },
      },
    ]);
    // The new kernel, with the admin's arguments of the old entry recomposed for the new layer.
    expect(h.boot.entries.find((e) => e.layer === 'Base-2-0+1')).toMatchObject({
      title: 'Base-2-0+1 (6.2.0)',
      kernel: '/Base-2-0+1/vmlinuz-6.2.0',
      initrd: '/Base-2-0+1/initrd.img-6.2.0',
      options: [
        'console=ttyS0',
        'rd.lvm.lv=onn/Base-2-0+1',
        'root=/dev/onn/Base-2-0+1',
        'rootflags=discard',
        'img.bootid=Base-2-0+1',
      ],
    });
    expect(h.boot.defaultId).toBe(id('Base-2-0+1'));
    expect(h.boot.entries.map((e) => e.id)).toContain('rescue');
    expect(h.lock.purposes).toEqual(['update']);
    expect(h.lock.holder).toBeUndefined();
    expect(events).toContainEqual({
      type: 'progress',
      step: 'install',
      bytes: 512 * 1024 ** 2,
      total: 512 * 1024 ** 2,
    });
    // [trial] enabled (the default), but this bootloader has no trial boots.
    expect(events.filter((e) => e.type === 'warning')).toEqual([
      {
        type: 'warning',
        message: 'memory has no trial boots: Base-2-0+1 becomes the default at once ([trial] enabled)',
      },
    ]);
  });

  it('makes the new layer the default on a boot partition where writes are not atomic (a FAT ESP)', async () => {
    h.boot.atomic = false;
    const result = await h.engine().update({ image: '/images/Base-2-0.img' });
    expect(result.boot).toMatchObject({ added: [id('Base-2-0+1')], atomic: false });
    expect(result.bootsNext).toBe('Base-2-0+1');
    expect(h.boot.defaultId).toBe(id('Base-2-0+1'));
  });

  it('takes --nvr, --sha256 and --from as given', async () => {
    await h.engine().addLayer({ from: 'Base-1-0+1' });
    const sha = 'a'.repeat(64);
    const result = await h
      .engine()
      .update({ image: '/images/Base-2-0.img', nvr: 'Node-4.7-1', sha256: sha, from: 'Base-1-0+2' });
    expect(result).toMatchObject({
      base: 'Node-4.7-1',
      layer: 'Node-4.7-1+1',
      image: { nvrFrom: 'option', sha256: sha },
      from: { layer: 'Base-1-0+2', why: 'option' },
    });
  });

  it('carries the newest layer over, with a warning, when the host does not run from a layer', async () => {
    h.host.root = { source: 'overlay', device: undefined };
    const events: EngineEvent[] = [];
    const result = await h.engine().update({ image: '/images/Base-2-0.img' }, { report: (e) => events.push(e) });
    expect(result.from).toEqual({ layer: 'Base-1-0+1', why: 'newest' });
    expect(h.filesystem.mounts[1]).toEqual({ device: '/dev/onn/Base-1-0+1', readOnly: true });
    expect(events).toContainEqual({
      type: 'warning',
      message:
        'the host does not run from a layer (/ is overlay): carrying over the state of the newest layer, Base-1-0+1',
    });
  });

  it('boots the source entry’s kernel, with a warning, when the image has none', async () => {
    h.host.directories['/mnt/fake/boot'] = [];
    const events: EngineEvent[] = [];
    await h.engine().update({ image: '/images/Base-2-0.img' }, { report: (e) => events.push(e) });
    expect(h.boot.entries.find((e) => e.layer === 'Base-2-0+1')).toMatchObject({ kernel: '/Base-2-0+1/vmlinuz-6.1.0' });
    expect(events).toContainEqual({
      type: 'warning',
      message: 'no kernel in the new image’s /boot: Base-2-0+1 boots the kernel of Base-1-0+1',
    });
  });

  it('writes no entry without a bootloader, and says nothing is known to boot next', async () => {
    h.boot.present = false;
    const result = await h.engine().update({ image: '/images/Base-2-0.img' });
    expect(result).toMatchObject({ bootsNext: null, rebootRequired: false });
    expect(result.boot).toBeUndefined();
  });

  it('carries nothing over, with a warning, when no persistence plugin is configured', async () => {
    h.selection.plugins.length = 0;
    const events: EngineEvent[] = [];
    const result = await h.engine().update({ image: '/images/Base-2-0.img' }, { report: (e) => events.push(e) });
    expect(result.persistence).toEqual([]);
    expect(events.some((e) => e.type === 'warning' && e.message.startsWith('no persistence plugin'))).toBe(true);
  });

  it('lists conflicts as warnings and in the result, without failing', async () => {
    h.persistence.report = {
      ...h.persistence.report,
      conflicts: [
        { path: '/etc/motd', reason: 'changed on both sides', resolution: 'kept-admin', savedAs: '/etc/motd.imgnew' },
      ],
    };
    const events: EngineEvent[] = [];
    const result = await h.engine().update({ image: '/images/Base-2-0.img' }, { report: (e) => events.push(e) });
    expect(result.persistence[0]!.conflicts).toEqual([
      { path: '/etc/motd', reason: 'changed on both sides', resolution: 'kept-admin', savedAs: '/etc/motd.imgnew' },
    ]);
    expect(events).toContainEqual({
      type: 'warning',
      message: 'conflict: /etc/motd: changed on both sides (kept-admin, other version in /etc/motd.imgnew)',
    });
  });

  it('grows the pool metadata to 1 GiB first when the volume group has room', async () => {
    h.volumes.groups[0]!.freeBytes = 4 * 1024 ** 3;
    const result = await h.engine().update({ image: '/images/Base-2-0.img' });
    expect(result.space.metadataExtension).toEqual({ fromBytes: 2 ** 27, toBytes: 2 ** 30 });
    expect(h.volumes.log).toContain(`extendPoolMetadata onn/pool00 ${2 ** 30}`);
    expect(h.volumes.pools[0]!.metadataSizeBytes).toBe(2 ** 30);
  });

  it('plans without changing the boot entries or carrying anything over in a dry run', async () => {
    const bootBefore = h.boot.snapshot();
    const result = await h.engine().update({ image: '/images/Base-2-0.img' }, { dryRun: true });
    expect(result).toMatchObject({ dryRun: true, base: 'Base-2-0', bootsNext: 'Base-2-0+1' });
    expect(result.space.needs.map((n) => n.space)).toEqual(['pool-data', 'pool-metadata', 'boot']);
    expect(result.persistence).toMatchObject([{ plugin: 'tar-diff', copied: [] }]);
    expect(h.persistence.calls).toEqual([]);
    expect(h.boot.snapshot()).toBe(bootBefore);
    expect(h.lock.purposes).toEqual([]);
  });
});

describe('update, then garbage collection', () => {
  async function updateTo(nvr: string, keep?: number) {
    h.images.add(`/images/${nvr}.img`, nvr);
    return h.engine().update({ image: `/images/${nvr}.img`, keep });
  }

  it('removes the oldest base with its layers, entries and files, keeping the running layer’s base', async () => {
    await updateTo('Base-2-0');
    runFrom(h.host, h.volumes, 'Base-2-0+1');
    const result = await updateTo('Base-3-0');
    expect(result.gc).toEqual({
      keep: 2,
      removed: [{ base: 'Base-1-0', layers: ['Base-1-0+1'] }],
      kept: ['Base-2-0', 'Base-3-0'],
    });
    expect(result.removed).toEqual(['Base-1-0+1', 'Base-1-0']);
    expect(result.boot).toMatchObject({ added: [id('Base-3-0+1')], removed: [id('Base-1-0+1')] });
    expect(h.volumes.find('Base-1-0')).toBeUndefined();
    expect(h.boot.entries.map((e) => e.id)).toEqual([id('Base-2-0+1'), id('Base-3-0+1'), 'rescue']);
    expect(result.space.gcFrees.map((f) => f.base)).toEqual(['Base-1-0']);
  });

  it('never removes the running layer’s base nor a pinned one', async () => {
    await updateTo('Base-2-0');
    await h.engine().pinBase('Base-2-0', true);
    const result = await updateTo('Base-3-0');
    expect(result.gc).toEqual({ keep: 2, removed: [], kept: ['Base-1-0', 'Base-2-0', 'Base-3-0'] });
  });

  it('keeps what --keep says for this run', async () => {
    await updateTo('Base-2-0');
    runFrom(h.host, h.volumes, 'Base-2-0+1');
    const result = await updateTo('Base-3-0', 1);
    // Base-2-0 holds the running layer, Base-3-0 is new: only Base-1-0 can go.
    expect(result.gc.removed.map((r) => r.base)).toEqual(['Base-1-0']);
    expect(result.gc.kept).toEqual(['Base-2-0', 'Base-3-0']);
  });
});
