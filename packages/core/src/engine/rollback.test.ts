import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import { RollbackResultSchema } from '../layout/update-schema.js';
import { updateHost } from '../testing/index.js';

let h: Awaited<ReturnType<typeof updateHost>>;
const id = entryIdForLayer;

function state(): string {
  return JSON.stringify([h.volumes.snapshot(), h.boot.snapshot()]);
}

beforeEach(async () => {
  h = await updateHost();
});

describe('rollback', () => {
  beforeEach(async () => {
    await h.engine().update({ image: '/images/Base-2-0.img' });
  });

  it('makes the previous base’s newest layer the default and says what boots next', async () => {
    await h.engine().addLayer({ from: 'Base-1-0+1' });
    await h.engine().setDefaultBoot('Base-2-0+1');
    const result = await h.engine().rollback();
    expect(RollbackResultSchema.parse(result)).toEqual(result);
    expect(result).toEqual({
      dryRun: false,
      bootloader: 'memory',
      layer: 'Base-1-0+2',
      entry: id('Base-1-0+2'),
      previous: 'Base-2-0+1',
      atomic: true,
    });
    expect(h.boot.defaultId).toBe(id('Base-1-0+2'));
    expect(h.lock.purposes.at(-1)).toBe('rollback');
  });

  it('goes to LAYER with --to', async () => {
    await expect(h.engine().rollback({ to: 'Base-1-0+1' })).resolves.toMatchObject({ layer: 'Base-1-0+1' });
    expect(h.boot.defaultId).toBe(id('Base-1-0+1'));
  });

  it('skips layers of the previous base that have no entry', async () => {
    await h.engine().addLayer({ from: 'Base-1-0+1' });
    h.boot.entries = h.boot.entries.filter((e) => e.layer !== 'Base-1-0+2');
    h.boot.defaultId = id('Base-2-0+1');
    await expect(h.engine().rollback()).resolves.toMatchObject({ layer: 'Base-1-0+1' });
  });

  it('changes nothing in a dry run', async () => {
    const before = state();
    await expect(h.engine().rollback({}, { dryRun: true })).resolves.toMatchObject({
      dryRun: true,
      layer: 'Base-1-0+1',
    });
    expect(state()).toBe(before);
  });

  it('puts the default back when the write fails', async () => {
    const before = state();
    h.boot.failNext = { method: 'setDefault', error: new Error('read-only /boot') };
    await expect(h.engine().rollback()).rejects.toThrow('read-only /boot');
    expect(state()).toBe(before);
  });

  it.each([
    [{ to: 'Base-1-0+9' }, 'E_LAYER_NOT_FOUND'],
    [{ to: 'Base-1-0' }, 'E_NAME_INVALID'],
  ])('refuses %j, changing nothing', async (request, code) => {
    const before = state();
    await expect(h.engine().rollback(request)).rejects.toMatchObject({ code });
    expect(state()).toBe(before);
  });

  it('refuses a LAYER without an entry, changing nothing', async () => {
    h.boot.entries = h.boot.entries.filter((e) => e.layer !== 'Base-1-0+1');
    const before = state();
    await expect(h.engine().rollback({ to: 'Base-1-0+1' })).rejects.toMatchObject({ code: 'E_BOOT_ENTRY_NOT_FOUND' });
    expect(state()).toBe(before);
  });

  it('refuses when the previous base has no layer with an entry', async () => {
    h.boot.entries = h.boot.entries.filter((e) => e.layer !== 'Base-1-0+1');
    const before = state();
    await expect(h.engine().rollback()).rejects.toMatchObject({ code: 'E_NO_ROLLBACK_TARGET' });
    expect(state()).toBe(before);
  });
});

describe('rollback with nothing to go back to', () => {
  it('refuses on the oldest base, changing nothing', async () => {
    const before = state();
    await expect(h.engine().rollback()).rejects.toMatchObject({
      code: 'E_NO_ROLLBACK_TARGET',
      message: 'Nothing to roll back to: Base-1-0+1 is on the oldest base, Base-1-0; nothing was changed',
    });
    expect(state()).toBe(before);
  });

  it('uses the running layer when the default entry is not imgbased’s, and refuses without one', async () => {
    h.boot.defaultId = 'rescue';
    await expect(h.engine().rollback()).rejects.toMatchObject({ message: expect.stringContaining('oldest base') });
    h.host.root = { source: 'overlay', device: undefined };
    await expect(h.engine().rollback()).rejects.toMatchObject({ code: 'E_NO_ROLLBACK_TARGET' });
  });

  it('refuses without a bootloader', async () => {
    h.boot.present = false;
    await expect(h.engine().rollback()).rejects.toMatchObject({ code: 'E_NO_BOOTLOADER' });
  });
});

describe('base --pin / --unpin', () => {
  it('tags the base, shows it in the layout, and is idempotent', async () => {
    await expect(h.engine().pinBase('Base-1-0', true)).resolves.toEqual({
      dryRun: false,
      base: 'Base-1-0',
      pinned: true,
      changed: true,
    });
    expect(h.volumes.find('Base-1-0')!.tags).toContain('imgbased:pinned');
    expect((await h.engine().layout()).bases[0]!.pinned).toBe(true);
    await expect(h.engine().pinBase('Base-1-0', true)).resolves.toMatchObject({ changed: false });
    await expect(h.engine().pinBase('Base-1-0', false)).resolves.toMatchObject({ pinned: false, changed: true });
    expect((await h.engine().layout()).bases[0]!.pinned).toBe(false);
    expect(h.lock.purposes).toEqual(['base --pin', 'base --pin', 'base --unpin']);
  });

  it.each([
    ['Base-9-0', 'E_BASE_NOT_FOUND'],
    ['Base-1-0+1', 'E_NAME_INVALID'],
  ])('refuses %s, changing nothing', async (name, code) => {
    const before = state();
    await expect(h.engine().pinBase(name, true)).rejects.toMatchObject({ code });
    expect(state()).toBe(before);
  });
});
