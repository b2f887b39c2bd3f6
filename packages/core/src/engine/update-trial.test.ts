import { beforeEach, describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../boot/entries.js';
import { MemoryTrialBootloader, runFrom, updateHost } from '../testing/index.js';

let h: Awaited<ReturnType<typeof updateHost>>;
let trials: MemoryTrialBootloader;

beforeEach(async () => {
  h = await updateHost();
  trials = new MemoryTrialBootloader('grub-counter', 'Base-1-0+1');
  Object.assign(h.boot, { trial: () => trials });
});

describe('update with trial boots', () => {
  it('boots the new layer as a trial: the last good layer stays the default', async () => {
    const result = await h.engine().update({ image: '/images/Base-2-0.img' });
    expect(result).toMatchObject({ bootsNext: 'Base-2-0+1', rebootRequired: true, trial: true });
    expect(h.boot.defaultId).toBe(entryIdForLayer('Base-1-0+1'));
    expect(trials.writes).toEqual(['record', 'arm Base-2-0+1 3']);
    expect(trials.record.trial).toMatchObject({ layer: 'Base-2-0+1', good: 'Base-1-0+1', tries: 3 });
    expect(trials.powerOn()).toBe('Base-2-0+1');
  });

  it('a trial still running is marked bad, superseded, and the new layer tried against the last good one', async () => {
    await h.engine().update({ image: '/images/Base-2-0.img' });
    runFrom(h.host, h.volumes, 'Base-1-0+1');
    h.images.add('/images/Base-3-0.img', 'Base-3-0');
    await h.engine().update({ image: '/images/Base-3-0.img' });
    expect(trials.record.layers['Base-2-0+1']).toMatchObject({ state: 'failed', reason: 'superseded by Base-3-0+1' });
    expect(trials.record.trial).toMatchObject({ layer: 'Base-3-0+1', good: 'Base-1-0+1' });
  });

  it('GC keeps the last good layer’s base while a trial runs', async () => {
    await h.engine().update({ image: '/images/Base-2-0.img' });
    // The host now runs the trial layer, whose checks have not run yet; the next update keeps 2 bases.
    runFrom(h.host, h.volumes, 'Base-2-0+1');
    h.images.add('/images/Base-3-0.img', 'Base-3-0');
    const result = await h.engine().update({ image: '/images/Base-3-0.img', keep: 2 });
    expect(result.gc.removed).toEqual([]);
    expect(result.gc.kept).toEqual(['Base-1-0', 'Base-2-0', 'Base-3-0']);
  });

  it('with [trial] enabled = false, the new layer becomes the default at once', async () => {
    Object.assign(h.config.trial, { enabled: false });
    const result = await h.engine().update({ image: '/images/Base-2-0.img' });
    expect(result.trial).toBe(false);
    expect(trials.writes).toEqual([]);
    expect(h.boot.defaultId).toBe(entryIdForLayer('Base-2-0+1'));
  });

  it('a bootloader without trial boots: the new layer becomes the default, and one warning says so', async () => {
    Object.assign(h.boot, { trial: undefined });
    const events: { type: string; message?: string }[] = [];
    const result = await h
      .engine()
      .update(
        { image: '/images/Base-2-0.img' },
        { report: (e) => events.push(e as { type: string; message?: string }) },
      );
    expect(result).toMatchObject({ bootsNext: 'Base-2-0+1', trial: false });
    expect(h.boot.defaultId).toBe(entryIdForLayer('Base-2-0+1'));
    expect(events.filter((e) => e.type === 'warning').map((e) => e.message)).toEqual([
      'memory has no trial boots: Base-2-0+1 becomes the default at once ([trial] enabled)',
    ]);
  });

  it('a dry run says the new layer would boot as a trial', async () => {
    const result = await h.engine().update({ image: '/images/Base-2-0.img' }, { dryRun: true });
    expect(result).toMatchObject({ bootsNext: 'Base-2-0+1', trial: true });
  });

  it('rollback --to while the trial runs ends it: the countdown never boots it again', async () => {
    await h.engine().update({ image: '/images/Base-2-0.img' });
    await h.engine().rollback({ to: 'Base-1-0+1' });
    expect(trials.record.layers['Base-2-0+1']).toMatchObject({
      state: 'failed',
      reason: 'ended by rollback Base-1-0+1',
    });
    expect(trials.powerOn()).toBe('Base-1-0+1');
  });

  it('a dry run arms nothing', async () => {
    await h.engine().update({ image: '/images/Base-2-0.img' }, { dryRun: true });
    expect(trials.writes).toEqual([]);
  });
});
