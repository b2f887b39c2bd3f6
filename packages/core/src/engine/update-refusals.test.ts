import { beforeEach, describe, expect, it } from 'vitest';
import {
  ImageChecksumError,
  ImageFormatUnknownError,
  ImageInvalidError,
  PersistenceConflictError,
} from '../errors/index.js';
import { updateHost } from '../testing/index.js';

let h: Awaited<ReturnType<typeof updateHost>>;
const image = '/images/Base-2-0.img';

beforeEach(async () => {
  h = await updateHost();
});

/** Everything the fakes hold that an update may change. */
function state(): string {
  return JSON.stringify([h.volumes.snapshot(), h.boot.snapshot()]);
}

describe('update refuses, changing nothing', () => {
  it.each([
    [
      'a wrong checksum',
      'resolve',
      new ImageChecksumError(image, 'a'.repeat(64), 'b'.repeat(64), '--sha256'),
      'E_IMAGE_CHECKSUM',
    ],
    ['an unknown format', 'inspect', new ImageFormatUnknownError(image), 'E_IMAGE_FORMAT_UNKNOWN'],
    ['a corrupt image', 'inspect', new ImageInvalidError(image, 'bad superblock'), 'E_IMAGE_INVALID'],
  ] as const)('%s', async (_what, method, error, code) => {
    const before = state();
    h.images.fail = { method, error };
    await expect(h.engine().update({ image })).rejects.toMatchObject({ code });
    expect(state()).toBe(before);
    expect(h.images.calls.some((c) => c.startsWith('install'))).toBe(false);
    expect(h.lock.purposes).toEqual([]);
  });

  it('an NVR that exists already', async () => {
    const before = state();
    await expect(h.engine().update({ image, nvr: 'Base-1-0' })).rejects.toMatchObject({ code: 'E_BASE_EXISTS' });
    expect(state()).toBe(before);
  });

  it('an unknown --from, before anything is downloaded', async () => {
    const before = state();
    await expect(h.engine().update({ image, from: 'Base-1-0+7' })).rejects.toMatchObject({ code: 'E_LAYER_NOT_FOUND' });
    expect(h.images.calls).toEqual([]);
    expect(state()).toBe(before);
  });

  it.each([
    [{ keep: 0 }, 'E_USAGE'],
    [{ keep: 1.5 }, 'E_USAGE'],
    [{ sha256: 'abc' }, 'E_USAGE'],
    [{ nvr: 'no-nvr' }, 'E_NAME_INVALID'],
    [{ from: 'Base-1-0' }, 'E_NAME_INVALID'],
  ])('bad arguments %j', async (args, code) => {
    const before = state();
    await expect(h.engine().update({ image, ...args })).rejects.toMatchObject({ code });
    expect(h.images.calls).toEqual([]);
    expect(state()).toBe(before);
  });

  it('an image larger than the free pool, naming the space, the need and what could be freed', async () => {
    h.images.add(image, 'Base-2-0', { dataBytes: 20 * 1024 ** 3 });
    const before = state();
    const refused = h.engine().update({ image });
    await expect(refused).rejects.toMatchObject({
      code: 'E_NO_SPACE',
      details: { space: 'pool-data', where: 'onn/pool00', freeBytes: 12 * 1024 ** 3 },
    });
    await expect(refused).rejects.toThrow(
      /^Not enough data in onn\/pool00: the update needs 20608 MiB, 12288 MiB is free; nothing was changed$/,
    );
    expect(state()).toBe(before);
  });

  it('pool metadata that is short when the volume group cannot grow it', async () => {
    h.volumes.pools[0]!.metadataPercent = 99.9;
    h.volumes.groups[0]!.freeBytes = 0;
    const before = state();
    await expect(h.engine().update({ image })).rejects.toMatchObject({
      code: 'E_NO_SPACE',
      details: { space: 'pool-metadata' },
    });
    expect(state()).toBe(before);
  });

  it('a boot partition without room for a kernel', async () => {
    h.host.spaces['/boot'] = { freeBytes: 10 * 1024 ** 2, sizeBytes: 256 * 1024 ** 2 };
    const before = state();
    await expect(h.engine().update({ image })).rejects.toMatchObject({
      code: 'E_NO_SPACE',
      details: { space: 'boot', where: '/boot' },
    });
    expect(state()).toBe(before);
  });

  it('an ESP mounted apart from /boot, where the bootloader stages kernels, without room for one', async () => {
    h.boot.kernelRoot = '/efi';
    h.host.spaces['/efi'] = { freeBytes: 20 * 1024 ** 2, sizeBytes: 512 * 1024 ** 2 };
    const before = state();
    const refused = h.engine().update({ image });
    await expect(refused).rejects.toMatchObject({
      code: 'E_NO_SPACE',
      details: { space: 'boot', where: '/efi', freeBytes: 20 * 1024 ** 2 },
    });
    await expect(refused).rejects.toThrow(/^Not enough space in \/efi: the update needs 64 MiB, 20 MiB is free/);
    expect(state()).toBe(before);
  });

  it('names a removable base in the E_NO_SPACE message', async () => {
    h.images.add('/images/Base-1-5.img', 'Base-1-5');
    await h.engine().update({ image: '/images/Base-1-5.img' });
    // Mapped data is known for active volumes; an inactive base counts with its whole size.
    h.volumes.find('Base-1-5+1')!.dataPercent = 25;
    h.images.add(image, 'Base-2-0', { dataBytes: 20 * 1024 ** 3 });
    await expect(h.engine().update({ image })).rejects.toThrow(
      "(--keep 1 would free up to 2560 MiB; 'imgbase base --remove Base-1-5' would free up to 2560 MiB)",
    );
  });

  it('without image support in this build', async () => {
    const { ImageEngine } = await import('./engine.js');
    const bare = new ImageEngine(h.volumes, h.filesystem, h.host, h.lock, h.boot);
    await expect(bare.update({ image })).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});

describe('a failed or cancelled update undoes every step', () => {
  it.each(['install', 'regenerateUuid', 'persistence', 'boot write', 'set default', 'gc'] as const)(
    'when %s fails',
    async (where) => {
      if (where === 'gc') {
        h.images.add('/images/Base-1-5.img', 'Base-1-5');
        await h.engine().update({ image: '/images/Base-1-5.img' });
      }
      const volumesBefore = JSON.stringify(h.volumes.volumes.filter((v) => v.name !== 'Base-1-5'));
      const bootBefore = h.boot.snapshot();
      const boom = new Error(`${where} failed`);
      if (where === 'install') h.images.fail = { method: 'install', error: boom };
      if (where === 'regenerateUuid') h.filesystem.fail = { method: 'regenerateUuid', error: boom };
      if (where === 'persistence') h.persistence.fail = boom;
      if (where === 'boot write') h.boot.failNext = { method: 'writeEntries', error: boom };
      if (where === 'set default') h.boot.failNext = { method: 'setDefault', error: boom };
      // GC of Base-1-5 (keep 1): its layer's removal fails after its entry was taken out.
      if (where === 'gc') h.volumes.failNext = { operation: 'remove', error: boom };
      await expect(h.engine().update({ image, keep: where === 'gc' ? 1 : undefined })).rejects.toThrow(boom.message);
      if (where !== 'gc') {
        expect(JSON.stringify(h.volumes.volumes)).toBe(volumesBefore);
        expect(h.boot.snapshot()).toBe(bootBefore);
      } else {
        expect(h.volumes.find('Base-2-0')).toBeUndefined();
        expect(h.volumes.find('Base-1-5+1')).toBeDefined();
        expect(h.boot.snapshot()).toBe(bootBefore);
      }
      expect(h.volumes.find('Base-1-0')!.active).toBe(false);
      expect(h.lock.holder).toBeUndefined();
    },
  );

  it('when a conflict fails the carry-over under on_conflict = fail', async () => {
    const before = state();
    h.persistence.fail = new PersistenceConflictError([{ path: '/etc/motd', reason: 'changed on both sides' }]);
    await expect(h.engine().update({ image })).rejects.toMatchObject({ code: 'E_PERSISTENCE_CONFLICT' });
    expect(state()).toBe(before);
  });

  it.each(['install', 'resolve'] as const)('when cancelled during %s', async (method) => {
    const before = state();
    const controller = new AbortController();
    h.images.during = (m) => {
      if (m === method) controller.abort(new Error('SIGTERM'));
    };
    await expect(h.engine().update({ image }, { signal: controller.signal })).rejects.toMatchObject({
      code: 'E_CANCELLED',
    });
    expect(state()).toBe(before);
  });
});
