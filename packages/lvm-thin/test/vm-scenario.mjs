#!/usr/bin/env node
// Runs inside the test VM (test-e2e/tests/lvm-thin.e2e.test.ts): drives the real LvmThinVolumeManager, built
// (dist/), on a scratch disk, then prints one JSON line with what lvm itself reports (plain `lvm lvs`, not
// the code under test), the manager's own report, the commands it ran and the errors it raised.
// Usage: node vm-scenario.mjs /dev/vda
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { ExecaCommandRunner } from '../../system/dist/index.js';
import { LvmThinVolumeManager } from '../dist/index.js';

const disk = process.argv[2] ?? '/dev/vda';
const vg = 'e2evg';
const base = 'e2e-1.0-1';
const layer = `${base}+1`;

function lvm(...args) {
  execFileSync('lvm', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function realLvs() {
  const out = execFileSync(
    'lvm',
    [
      'lvs',
      '-a',
      '--reportformat',
      'json',
      '-o',
      'lv_name,vg_name,lv_attr,lv_tags,vg_tags,origin,pool_lv,segtype,lv_active,lv_permissions,lv_skip_activation',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return JSON.parse(out).report[0].lv;
}

async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return {
      name: error?.name,
      code: error?.code,
      message: error?.message,
      cause: error?.cause?.code ?? null,
    };
  }
}

// Setup with plain lvm commands: a PV, a VG, a thin pool, and one linear LV that is not thin.
lvm('pvcreate', '--yes', disk);
lvm('vgcreate', vg, disk);
lvm('lvcreate', '--yes', '--type', 'thin-pool', '--size', '200m', '--name', 'pool00', vg);
lvm('lvcreate', '--yes', '--size', '8m', '--name', 'plain', vg);

const commands = [];
const context = {
  report: (event) => {
    if (event.type === 'command') commands.push({ argv: event.argv.join(' '), mutates: event.mutates });
  },
};
const manager = new LvmThinVolumeManager(new ExecaCommandRunner());
const steps = {};

await manager.changeGroup(vg, { addTags: ['imgbased:vg'] }, context);
await manager.change({ vg, name: 'pool00' }, { addTags: ['imgbased:pool'] }, context);
await manager.create(
  {
    kind: 'thin',
    vg,
    pool: 'pool00',
    name: base,
    sizeBytes: 64 * 1024 * 1024,
    tags: ['imgbased:base', 'imgbased:pending'],
  },
  context,
);
steps.afterCreateBase = realLvs();
await manager.create({ kind: 'snapshot', vg, origin: base, name: layer, tags: ['imgbased:layer'] }, context);
steps.afterSnapshot = realLvs();
// Protect the base: read-only, activation skip, inactive; the pending tag goes.
await manager.change(
  { vg, name: base },
  { removeTags: ['imgbased:pending'], readOnly: true, activationSkip: true, active: false },
  context,
);
// Again: a permission the volume has already is not an error.
steps.protectAgainError = await errorOf(
  manager.change({ vg, name: base }, { readOnly: true, activationSkip: true, active: false }, context),
);
// Ready the layer (lvm creates thin snapshots with activation skip set, inactive).
await manager.change({ vg, name: layer }, { activationSkip: false, active: true }, context);
// A read-only, active volume can be removed.
await manager.create(
  { kind: 'thin', vg, pool: 'pool00', name: 'doomed', sizeBytes: 8 * 1024 * 1024, tags: [] },
  context,
);
await manager.change({ vg, name: 'doomed' }, { readOnly: true }, context);
steps.doomedBeforeRemove = realLvs().find((lv) => lv.lv_name === 'doomed') ?? null;
await manager.remove({ vg, name: 'doomed' }, context);

const errors = {
  missingVolume: await errorOf(manager.change({ vg, name: 'nope' }, { active: false }, context)),
  missingGroup: await errorOf(manager.changeGroup('novg', { addTags: ['x'] }, context)),
  existingName: await errorOf(manager.create({ kind: 'snapshot', vg, origin: base, name: layer, tags: [] }, context)),
};

const report = await manager.report(context);
const real = realLvs();
process.stdout.write(`@@RESULT@@${JSON.stringify({ vg, base, layer, real, report, steps, errors, commands })}\n`);
