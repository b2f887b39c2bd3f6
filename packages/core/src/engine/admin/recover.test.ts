// imgbase recover on the in-memory host: --list names what --yes repairs, and changes nothing.
import { describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../../boot/entries.js';
import { Tags } from '../../layout/tags.js';
import { adminHost } from '../../testing/index.js';

async function meddled() {
  const h = await adminHost();
  // A layer's entry deleted by hand, and a pending volume made by hand.
  h.boot.entries = h.boot.entries.filter((e) => e.layer !== 'Base-1-0+1');
  h.volumes.addVolume({ vg: 'onn', name: 'stray', pool: 'pool00', tags: [Tags.pending], active: true });
  return h;
}

describe('imgbase recover', () => {
  it('--list names the layer without an entry and the pending volume, and changes nothing', async () => {
    const h = await meddled();
    const before = h.snapshot();
    const { steps } = await h.engine().recoveryList();
    expect(steps.map((s) => [s.kind, s.targets])).toEqual([
      ['remove-volume', ['stray']],
      ['add-boot-entry', ['Base-1-0+1']],
    ]);
    expect(h.snapshot()).toBe(before);
    expect(h.lock.purposes).toEqual([]);
  });

  it('--yes repairs both under the lock, leaves the default alone, and check is ok again', async () => {
    const h = await meddled();
    expect((await h.engine().check()).exitCode).toBe(2);
    const result = await h.engine().recover();
    expect(result).toMatchObject({ dryRun: false, recovered: ['stray'], addedEntries: ['Base-1-0+1'] });
    expect(result.steps.map((s) => s.kind)).toEqual(['remove-volume', 'add-boot-entry']);
    expect(h.volumes.find('stray')).toBeUndefined();
    expect(h.boot.entries.map((e) => e.layer).sort()).toEqual(['Base-1-0+1', 'Base-1-0+2']);
    expect(h.boot.defaultId).toBe(entryIdForLayer('Base-1-0+2'));
    expect(h.lock.purposes).toEqual(['recover']);
    h.bootFilesThere();
    expect((await h.engine().check()).exitCode).toBe(0);
    expect((await h.engine().recoveryList()).steps).toEqual([]);
  });

  it('the entry it adds boots the kernel of another layer of the base', async () => {
    const h = await meddled();
    h.host.directories['/boot'] = [];
    await h.engine().recover();
    expect(h.boot.entries.find((e) => e.layer === 'Base-1-0+1')?.kernel).toBe('/Base-1-0+1/vmlinuz-6.1.0-test-amd64');
  });

  it('--yes --dry-run only lists; a stale lock is listed first', async () => {
    const h = await meddled();
    Object.assign(h.lock, {
      inspect: async () => ({ path: '/run/imgbased/lock', holder: 'pid 7: update', stale: true }),
    });
    const before = h.snapshot();
    const result = await h.engine().recover({ dryRun: true });
    expect(result.steps.map((s) => s.kind)).toEqual(['remove-stale-lock', 'remove-volume', 'add-boot-entry']);
    expect([result.recovered, result.addedEntries, h.snapshot()]).toEqual([[], [], before]);
  });
});
