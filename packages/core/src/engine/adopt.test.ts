import { describe, expect, it } from 'vitest';
import type { VolumeChange, VolumeRef } from '../contracts/volume-manager.js';
import type { EngineEvent, OperationContext } from '../events.js';
import { AdoptResultSchema } from '../layout/adopt-schema.js';
import { Tags } from '../layout/tags.js';
import {
  ORIGINAL_FIRST_BASE as FIRST,
  FixedHost,
  MemoryLock,
  MemoryVolumeManager,
  originalNodeHost,
  RecordingFilesystem,
  ORIGINAL_SECOND_BASE as SECOND,
} from '../testing/index.js';
import { ImageEngine } from './engine.js';

/** The in-memory volume manager, failing its `failAt`-th volume change (1-based; 0: never). */
class FailingAtChange extends MemoryVolumeManager {
  changes = 0;
  failAt = 0;
  override async change(target: VolumeRef, change: VolumeChange, context?: OperationContext): Promise<void> {
    this.changes++;
    if (this.changes === this.failAt) throw new Error(`injected failure at volume change ${this.changes}`);
    return super.change(target, change, context);
  }
}

/** The original's host (see originalNodeHost) in a volume manager that fails where told. */
function originalHost(failAt = 0): FailingAtChange {
  const { volumes } = originalNodeHost();
  const failing = new FailingAtChange();
  failing.groups.push(...volumes.groups);
  failing.pools.push(...volumes.pools);
  failing.volumes.push(...volumes.volumes);
  failing.failAt = failAt;
  return failing;
}

function engineOn(volumes: MemoryVolumeManager, host = new FixedHost()): ImageEngine {
  return new ImageEngine(volumes, new RecordingFilesystem(), host, new MemoryLock());
}

describe('layout --adopt', () => {
  it('tags and protects the original’s first base as a base, and nothing else changes', async () => {
    const volumes = originalHost();
    const others = JSON.stringify(volumes.volumes.filter((v) => v.name !== FIRST));
    const events: EngineEvent[] = [];
    const result = await engineOn(volumes).adoptLayout({ report: (e) => events.push(e) });
    expect(AdoptResultSchema.parse(result)).toEqual(result);
    expect(result.steps.map((s) => [s.volume, s.step])).toEqual([
      [FIRST, 'tag'],
      [FIRST, 'protect'],
    ]);
    expect(volumes.find(FIRST)).toMatchObject({
      tags: [Tags.base],
      readOnly: true,
      activationSkip: true,
      active: false,
    });
    // Names, layers, the second base, root, the separate volumes and the pool are as they were.
    expect(JSON.stringify(volumes.volumes.filter((v) => v.name !== FIRST))).toBe(others);
    expect(volumes.pools[0]!.metadataSizeBytes).toBe(2 ** 30);
    expect(
      events.filter((e) => e.type === 'step' && e.step === 'adopt').map((e) => e.type === 'step' && e.message),
    ).toEqual([
      `Tagging ${FIRST} imgbased:base instead of imgbased:layer`,
      `Protecting base ${FIRST} (read-only, activation skip, inactive)`,
    ]);
    const layout = await engineOn(volumes).layout();
    expect(layout.bases.map((b) => [b.name, b.layers.map((l) => l.name)])).toEqual([
      [FIRST, [`${FIRST}+1`]],
      [SECOND, [`${SECOND}+1`]],
    ]);
  });

  it('is a no-op the second time, and on a layout imgbased made', async () => {
    const volumes = originalHost();
    await engineOn(volumes).adoptLayout();
    const before = volumes.snapshot();
    expect((await engineOn(volumes).adoptLayout()).steps).toEqual([]);
    expect(volumes.snapshot()).toBe(before);

    const ours = MemoryVolumeManager.thinpHost();
    await engineOn(ours).initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
    expect((await engineOn(ours).adoptLayout()).steps).toEqual([]);
  });

  it('in a dry run says what it would do (the runner records the commands instead of running them)', async () => {
    const events: EngineEvent[] = [];
    const result = await engineOn(originalHost()).adoptLayout({ dryRun: true, report: (e) => events.push(e) });
    expect(result.dryRun).toBe(true);
    expect(result.steps.map((s) => s.step)).toEqual(['tag', 'protect']);
    const said = events.filter((e) => e.type === 'step' && e.step === 'adopt');
    expect(said.map((e) => e.type === 'step' && e.message.startsWith('Would: '))).toEqual([true, true]);
  });

  it('leaves the running root writable and active, and says so', async () => {
    const volumes = originalHost();
    const running = volumes.find(FIRST)!;
    const host = new FixedHost({ source: `/dev/mapper/onn-${FIRST}`, device: running.device });
    const result = await engineOn(volumes, host).adoptLayout();
    expect(result.steps.map((s) => s.step)).toEqual(['tag']);
    expect(result.skipped).toEqual([`${FIRST}: it is the running root, left writable and active`]);
    expect(volumes.find(FIRST)).toMatchObject({ readOnly: false, active: true });
  });

  for (const failAt of [1, 2]) {
    it(`undoes everything when volume change ${failAt} of 2 fails`, async () => {
      const volumes = originalHost(failAt);
      const before = volumes.snapshot();
      const undone: string[] = [];
      await expect(
        engineOn(volumes).adoptLayout({ report: (e) => e.type === 'undo' && undone.push(e.message) }),
      ).rejects.toThrow(`injected failure at volume change ${failAt}`);
      // Device numbers are handed out anew on activation: compare everything else.
      const withoutDevices = (s: string) => s.replace(/"device":\{[^}]*\}|"device":null/g, '');
      expect(withoutDevices(volumes.snapshot())).toBe(withoutDevices(before));
      expect(undone).toHaveLength(failAt - 1);
    });
  }
});
