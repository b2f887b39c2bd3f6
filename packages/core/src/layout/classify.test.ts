import { describe, expect, it } from 'vitest';
import { ImageEngine } from '../engine/engine.js';
import type { EngineEvent } from '../events.js';
import {
  FixedHost,
  MemoryLock,
  MemoryVolumeManager,
  ORIGINAL_FIRST_BASE,
  ORIGINAL_SECOND_BASE,
  ORIGINAL_SEPARATE_VOLUMES,
  originalNodeHost,
  RecordingFilesystem,
} from '../testing/index.js';
import { classifyVolumes, volumeMountPoint } from './classify.js';
import { readLayout } from './layout.js';
import { Tags } from './tags.js';

function tagged(names: Record<string, string[]>): MemoryVolumeManager {
  const volumes = MemoryVolumeManager.thinpHost();
  volumes.groups[0]!.tags.push(Tags.group);
  volumes.pools[0]!.tags.push(Tags.pool);
  for (const [name, tags] of Object.entries(names)) volumes.addVolume({ vg: 'onn', name, pool: 'pool00', tags });
  return volumes;
}

describe('classifying volumes by name and tag', () => {
  it('reads an NVR as a base and NVR+N as a layer whatever the tag says, and says where they disagree', () => {
    const volumes = tagged({
      'Base-1-0': [Tags.layer],
      'Base-1-0+1': [Tags.layer],
      'Base-2-0': [Tags.base],
      'Base-2-0+1': [Tags.base],
      not_a_name: [Tags.base],
      var_log: [Tags.volume],
    });
    const result = classifyVolumes(volumes.volumes);
    expect(result.bases.map((b) => b.volume.name)).toEqual(['Base-1-0', 'Base-2-0']);
    expect(result.layers.map((l) => l.volume.name)).toEqual(['Base-1-0+1', 'Base-2-0+1']);
    expect(result.unreadable.map((v) => v.name)).toEqual(['not_a_name']);
    expect(result.notes).toEqual([
      'Base-1-0 is tagged imgbased:layer but named as a base (NVR): read as a base',
      'Base-2-0+1 is tagged imgbased:base but named as a layer (NVR+N): read as a layer',
      'not_a_name is tagged imgbased:base but its name is neither NVR nor NVR+N: left out',
    ]);
  });

  it('has nothing to say about a layout whose tags agree with the names', () => {
    const volumes = tagged({ 'Base-1-0': [Tags.base], 'Base-1-0+1': [Tags.layer], root: [Tags.init] });
    expect(classifyVolumes(volumes.volumes).notes).toEqual([]);
  });

  it('maps a separate volume name back to its mount point as the original does', () => {
    expect(volumeMountPoint('var_log_audit')).toBe('/var/log/audit');
    expect(volumeMountPoint('home')).toBe('/home');
    expect(volumeMountPoint('var_lib--x')).toBe('/var/lib-x');
  });
});

describe('a layout the original laid out', () => {
  it('is read right: both bases with their layers, no orphans, separate volumes apart', () => {
    const layout = readLayout(snapshotReport())!;
    expect(layout.bases.map((b) => [b.name, b.layers.map((l) => l.name)])).toEqual([
      [ORIGINAL_FIRST_BASE, [`${ORIGINAL_FIRST_BASE}+1`]],
      [ORIGINAL_SECOND_BASE, [`${ORIGINAL_SECOND_BASE}+1`]],
    ]);
    expect(layout.orphanLayers).toEqual([]);
    expect(layout.initVolume).toBe('root');
    expect(layout.volumes.map((v) => v.name).sort()).toEqual([...ORIGINAL_SEPARATE_VOLUMES].sort());
    expect(layout.volumes.find((v) => v.name === 'var_log_audit')?.mountPoint).toBe('/var/log/audit');
  });

  it('answers every read verb, and says in debug steps that the first base is tagged as a layer', async () => {
    const { volumes } = originalNodeHost();
    const engine = new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), new MemoryLock());
    const events: EngineEvent[] = [];
    const context = { report: (e: EngineEvent) => events.push(e) };
    const layout = await engine.layout(context);
    expect(layout.bases.map((b) => b.name)).toEqual([ORIGINAL_FIRST_BASE, ORIGINAL_SECOND_BASE]);
    expect(events).toContainEqual({
      type: 'step',
      step: 'classify',
      message: `${ORIGINAL_FIRST_BASE} is tagged imgbased:layer but named as a base (NVR): read as a base`,
    });
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
    expect((await engine.latestBase()).name).toBe(ORIGINAL_SECOND_BASE);
    expect((await engine.latestLayer()).name).toBe(`${ORIGINAL_SECOND_BASE}+1`);
    expect((await engine.baseOfLayer(`${ORIGINAL_FIRST_BASE}+1`)).name).toBe(ORIGINAL_FIRST_BASE);
    expect(await engine.volumePath(ORIGINAL_FIRST_BASE)).toBe(`/dev/onn/${ORIGINAL_FIRST_BASE}`);
  });

  it('is extended by layer --add and base --add, the original first base kept as it is', async () => {
    const { volumes } = originalNodeHost();
    const engine = new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), new MemoryLock());
    await engine.addLayer({ from: ORIGINAL_FIRST_BASE });
    await engine.addBase({ nvr: 'ovirt-node-ng-4.5.7-0.20250101.0', sizeBytes: 2 ** 30 });
    const layout = await engine.layout();
    expect(layout.bases.map((b) => [b.name, b.layers.map((l) => l.name)])).toEqual([
      [ORIGINAL_FIRST_BASE, [`${ORIGINAL_FIRST_BASE}+1`, `${ORIGINAL_FIRST_BASE}+2`]],
      [ORIGINAL_SECOND_BASE, [`${ORIGINAL_SECOND_BASE}+1`]],
      ['ovirt-node-ng-4.5.7-0.20250101.0', []],
    ]);
    expect(volumes.find(`${ORIGINAL_FIRST_BASE}+2`)).toMatchObject({
      origin: `${ORIGINAL_FIRST_BASE}+1`,
      tags: [Tags.layer],
    });
    expect(volumes.find(ORIGINAL_FIRST_BASE)).toMatchObject({ tags: [Tags.layer], readOnly: false });
  });
});

function snapshotReport() {
  const { volumes } = originalNodeHost();
  return { groups: volumes.groups, pools: volumes.pools, volumes: volumes.volumes };
}
