// @imgbased/lvm-thin against real LVM thin in the VM. The guest runs packages/lvm-thin/test/vm-scenario.mjs,
// which drives the built LvmThinVolumeManager on a scratch disk; the checks below read what `lvm lvs` itself
// printed in the guest, not what the code under test reports (that is only compared with it).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScratchDir, repoRoot, runInVm } from '../src/index.ts';

interface RealLv {
  lv_name: string;
  vg_name: string;
  lv_attr: string;
  lv_tags: string;
  vg_tags: string;
  origin: string;
  pool_lv: string;
  segtype: string;
  lv_active: string;
}

interface ScenarioError {
  name: string;
  code: string;
  message: string;
  cause: string | null;
}

interface Scenario {
  vg: string;
  base: string;
  layer: string;
  real: RealLv[];
  report: {
    groups: { name: string; tags: string[] }[];
    pools: { vg: string; name: string; tags: string[]; sizeBytes: number; metadataSizeBytes: number }[];
    volumes: {
      vg: string;
      name: string;
      tags: string[];
      origin?: string;
      pool?: string;
      readOnly: boolean;
      activationSkip: boolean;
      active: boolean;
      device?: { major: number; minor: number };
      segmentType: string;
    }[];
  };
  steps: {
    afterCreateBase: RealLv[];
    afterSnapshot: RealLv[];
    protectAgainError: ScenarioError | null;
    doomedBeforeRemove: RealLv | null;
  };
  errors: Record<'missingVolume' | 'missingGroup' | 'existingName', ScenarioError | null>;
  commands: { argv: string; mutates: boolean }[];
}

const PACKAGES = ['core', 'system', 'lvm-thin'];
const tags = (text: string) => text.split(',').filter(Boolean);

let scratch: string;
let scenario: Scenario;
let failure: string | undefined;

beforeAll(async () => {
  // The guest imports the built packages (dist/): build those that are missing (`pnpm build` builds all).
  for (const pkg of PACKAGES) {
    const dir = path.join(repoRoot, 'packages', pkg);
    if (!existsSync(path.join(dir, 'dist', 'index.js'))) {
      execFileSync('npx', ['tsc', '-p', path.join(dir, 'tsconfig.build.json')], { cwd: repoRoot, stdio: 'inherit' });
    }
  }
  scratch = await makeScratchDir('lvm-thin');
  const result = await runInVm({
    command: ['node', path.join(repoRoot, 'packages/lvm-thin/test/vm-scenario.mjs'), '/dev/vda'],
    disks: [{ path: path.join(scratch, 'disk.img'), sizeBytes: 512 * 1024 * 1024 }],
    cwd: repoRoot,
    timeoutMs: 300_000,
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('@@RESULT@@'));
  if (result.exitCode !== 0 || line === undefined) {
    failure = `scenario exited with ${result.exitCode}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}\n--- console ---\n${result.consoleTail}`;
    return;
  }
  scenario = JSON.parse(line.slice('@@RESULT@@'.length)) as Scenario;
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function lv(name: string, rows: RealLv[] = scenario.real): RealLv {
  const found = rows.find((row) => row.lv_name === name);
  if (!found) throw new Error(`lvs lists no LV ${name}: ${rows.map((r) => r.lv_name).join(' ')}`);
  return found;
}

describe('LvmThinVolumeManager on real LVM thin', () => {
  it('ran the scenario in the VM', () => {
    expect(failure).toBeUndefined();
  });

  it('created the base as a thin volume of the pool, with its tags, in one command', () => {
    const created = lv(scenario.base, scenario.steps.afterCreateBase);
    expect(created.segtype).toBe('thin');
    expect(created.pool_lv).toBe('pool00');
    expect(tags(created.lv_tags).sort()).toEqual(['imgbased:base', 'imgbased:pending']);
    const creates = scenario.commands.filter((c) => c.argv.startsWith('lvm lvcreate'));
    expect(creates[0]?.argv).toContain('--addtag imgbased:base --addtag imgbased:pending');
  });

  it('protected the base: read-only (r), activation skip (k), inactive, pending tag gone', () => {
    const base = lv(scenario.base);
    expect(base.lv_attr[1]).toBe('r');
    expect(base.lv_attr[9]).toBe('k');
    expect(base.lv_attr[4]).not.toBe('a');
    expect(base.lv_active).not.toBe('active');
    expect(tags(base.lv_tags)).toEqual(['imgbased:base']);
  });

  it('took protecting an already protected base as done', () => {
    expect(scenario.steps.protectAgainError).toBeNull();
  });

  it('created the layer as a thin snapshot of the base, and activated it', () => {
    const snapshot = lv(scenario.layer, scenario.steps.afterSnapshot);
    expect(snapshot.origin).toBe(scenario.base);
    expect(snapshot.segtype).toBe('thin');
    const layer = lv(scenario.layer);
    expect(layer.origin).toBe(scenario.base);
    expect(tags(layer.lv_tags)).toEqual(['imgbased:layer']);
    expect(layer.lv_attr[1]).toBe('w');
    expect(layer.lv_attr[4]).toBe('a');
    expect(layer.lv_attr[9]).toBe('-');
  });

  it('tagged the group and the pool', () => {
    const pool = lv('pool00');
    expect(tags(pool.lv_tags)).toEqual(['imgbased:pool']);
    expect(tags(pool.vg_tags)).toEqual(['imgbased:vg']);
  });

  it('removed a read-only, active volume', () => {
    const doomed = scenario.steps.doomedBeforeRemove;
    expect(doomed?.lv_attr[1]).toBe('r');
    expect(doomed?.lv_attr[4]).toBe('a');
    expect(scenario.real.map((row) => row.lv_name)).not.toContain('doomed');
  });

  it('mapped a missing volume and group to VolumeNotFoundError, and kept the error of a taken name', () => {
    expect(scenario.errors.missingVolume).toMatchObject({ code: 'E_VOLUME_NOT_FOUND', cause: 'E_COMMAND_FAILED' });
    expect(scenario.errors.missingGroup).toMatchObject({ code: 'E_VOLUME_NOT_FOUND', cause: 'E_COMMAND_FAILED' });
    expect(scenario.errors.existingName).toMatchObject({ code: 'E_COMMAND_FAILED' });
    expect(scenario.errors.existingName?.message).toMatch(/already exists/);
  });

  it('report() agrees with lvm, in one lvs call, without internal LVs', () => {
    const { report, real, vg } = scenario;
    expect(scenario.commands.filter((c) => c.argv.startsWith('lvm lvs'))).toEqual([
      { argv: expect.stringContaining('lvm lvs --reportformat json'), mutates: false },
    ]);
    expect(scenario.commands.filter((c) => !c.argv.startsWith('lvm lvs')).every((c) => c.mutates)).toBe(true);
    expect(report.groups).toEqual([expect.objectContaining({ name: vg, tags: ['imgbased:vg'] })]);
    expect(report.pools).toEqual([expect.objectContaining({ vg, name: 'pool00', tags: ['imgbased:pool'] })]);
    expect(report.pools[0]?.metadataSizeBytes).toBeGreaterThan(0);
    const visible = real.filter((row) => !row.lv_name.startsWith('[') && row.segtype !== 'thin-pool');
    expect(report.volumes.map((v) => v.name).sort()).toEqual(visible.map((row) => row.lv_name).sort());
    for (const volume of report.volumes) {
      const row = lv(volume.name);
      expect(volume.readOnly, volume.name).toBe(row.lv_attr[1] === 'r');
      expect(volume.activationSkip, volume.name).toBe(row.lv_attr[9] === 'k');
      expect(volume.active, volume.name).toBe(row.lv_attr[4] === 'a');
      expect(volume.tags, volume.name).toEqual(tags(row.lv_tags));
      expect(volume.origin ?? '', volume.name).toBe(row.origin);
      expect(volume.segmentType, volume.name).toBe(row.segtype);
      expect(volume.device !== undefined, volume.name).toBe(volume.active);
    }
    expect(report.volumes.find((v) => v.name === 'plain')).toMatchObject({ segmentType: 'linear' });
    expect(report.volumes.find((v) => v.name === 'plain')?.pool).toBeUndefined();
    expect(report.volumes.find((v) => v.name === scenario.layer)?.pool).toBe('pool00');
  });
});
