import {
  CommandFailedError,
  CommandRunner,
  type EngineEvent,
  InternalError,
  NameInvalidError,
  SizeInvalidError,
  UsageError,
  VolumeManager,
  VolumeNotFoundError,
} from '@imgbased/core';
import { ScriptedRunner } from '@imgbased/core/testing';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { LvmThinVolumeManager } from './lvm-thin-volume-manager.js';
import { LVS_ARGV } from './lvs-report.js';
import { HOST_ROWS, lvsJson } from './testing/lvs-samples.js';

function setup() {
  const runner = new ScriptedRunner({ strict: true });
  runner.on(['lvm'], { exitCode: 0, stderr: '  WARNING: lvm says something on stderr.\n' });
  runner.on(['lvm', 'lvs'], { stdout: lvsJson(HOST_ROWS) });
  return { runner, lvm: new LvmThinVolumeManager(runner) };
}

const base = { vg: 'onn', name: 'ovirt-node-ng-4.5.0-0.20220307.0' };

describe('LvmThinVolumeManager', () => {
  it('is resolved from the container with the CommandRunner token', () => {
    const runner = new ScriptedRunner();
    const child = container.createChildContainer();
    child.registerInstance(CommandRunner, runner);
    child.register(VolumeManager, { useClass: LvmThinVolumeManager });
    const lvm = child.resolve<VolumeManager>(VolumeManager);
    expect(lvm).toBeInstanceOf(LvmThinVolumeManager);
  });

  describe('report', () => {
    it('runs exactly one non-mutating lvs and parses it', async () => {
      const { runner, lvm } = setup();
      const report = await lvm.report();
      expect(runner.calls).toEqual([{ argv: LVS_ARGV, mutates: false }]);
      expect(report.pools.map((p) => p.name)).toEqual(['pool00']);
      expect(report.volumes).toHaveLength(6);
    });

    it('runs in a dry run too, and passes the context', async () => {
      const { runner, lvm } = setup();
      const events: EngineEvent[] = [];
      await lvm.report({ dryRun: true, report: (e) => events.push(e) });
      expect(events).toEqual([{ type: 'command', argv: LVS_ARGV, mutates: false, planned: false }]);
      expect(runner.calls).toHaveLength(1);
    });

    it('throws InternalError on output it does not understand', async () => {
      const { runner, lvm } = setup();
      runner.on(['lvm', 'lvs'], { stdout: 'garbage' });
      await expect(lvm.report()).rejects.toBeInstanceOf(InternalError);
    });

    it('keeps the CommandFailedError of a failing lvs', async () => {
      const { runner, lvm } = setup();
      runner.on(['lvm', 'lvs'], { exitCode: 5, stderr: '  Some failure.\n' });
      await expect(lvm.report()).rejects.toBeInstanceOf(CommandFailedError);
    });
  });

  describe('create', () => {
    it('creates a thin volume with its tags in one command', async () => {
      const { runner, lvm } = setup();
      await lvm.create({
        kind: 'thin',
        vg: 'onn',
        pool: 'pool00',
        name: 'ovirt-node-ng-4.5.1-0.1',
        sizeBytes: 10737418240,
        tags: ['imgbased:base', 'imgbased:pending'],
      });
      expect(runner.calls).toEqual([
        {
          argv: [
            'lvm',
            'lvcreate',
            '--yes',
            '--type',
            'thin',
            '--virtualsize',
            '10737418240b',
            '--thinpool',
            'pool00',
            '--name',
            'ovirt-node-ng-4.5.1-0.1',
            '--addtag',
            'imgbased:base',
            '--addtag',
            'imgbased:pending',
            'onn',
          ],
          mutates: true,
        },
      ]);
    });

    it('creates a thin snapshot with its tags in one command', async () => {
      const { runner, lvm } = setup();
      await lvm.create({
        kind: 'snapshot',
        vg: 'onn',
        origin: base.name,
        name: `${base.name}+1`,
        tags: ['imgbased:layer'],
      });
      expect(runner.calls).toEqual([
        {
          argv: [
            'lvm',
            'lvcreate',
            '--yes',
            '--snapshot',
            '--name',
            `${base.name}+1`,
            '--addtag',
            'imgbased:layer',
            `onn/${base.name}`,
          ],
          mutates: true,
        },
      ]);
    });

    it('is only recorded in a dry run, with the context passed on', async () => {
      const { runner, lvm } = setup();
      const events: EngineEvent[] = [];
      await lvm.create(
        { kind: 'snapshot', vg: 'onn', origin: 'a', name: 'b', tags: [] },
        { dryRun: true, report: (e) => events.push(e) },
      );
      expect(events).toEqual([
        {
          type: 'command',
          argv: ['lvm', 'lvcreate', '--yes', '--snapshot', '--name', 'b', 'onn/a'],
          mutates: true,
          planned: true,
        },
      ]);
      expect(runner.calls).toHaveLength(1);
    });

    it('refuses sizes that are not whole positive byte counts', async () => {
      const { runner, lvm } = setup();
      for (const sizeBytes of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
        await expect(
          lvm.create({ kind: 'thin', vg: 'onn', pool: 'pool00', name: 'x', sizeBytes, tags: [] }),
        ).rejects.toBeInstanceOf(SizeInvalidError);
      }
      expect(runner.calls).toEqual([]);
    });

    it('refuses names and tags lvm would misread, before running anything', async () => {
      const { runner, lvm } = setup();
      const bad = [
        { kind: 'snapshot', vg: '-onn', origin: 'a', name: 'b', tags: [] },
        { kind: 'snapshot', vg: 'onn', origin: '--all', name: 'b', tags: [] },
        { kind: 'snapshot', vg: 'onn', origin: 'a', name: 'b c', tags: [] },
        { kind: 'snapshot', vg: 'onn', origin: 'a', name: 'b', tags: ['a,b'] },
        { kind: 'snapshot', vg: 'onn', origin: 'a', name: 'b', tags: [''] },
        { kind: 'thin', vg: 'onn', pool: 'p/q', name: 'b', sizeBytes: 4096, tags: [] },
      ] as const;
      for (const request of bad) await expect(lvm.create(request)).rejects.toBeInstanceOf(NameInvalidError);
      expect(runner.calls).toEqual([]);
    });

    it('keeps the CommandFailedError when the name is taken', async () => {
      const { runner, lvm } = setup();
      runner.on(['lvm', 'lvcreate'], {
        exitCode: 5,
        stderr: '  Logical Volume "b" already exists in volume group "onn"\n',
      });
      const error = await lvm.create({ kind: 'snapshot', vg: 'onn', origin: 'a', name: 'b', tags: [] }).catch((e) => e);
      expect(error).toBeInstanceOf(CommandFailedError);
      expect(error.details.argv).toEqual(['lvm', 'lvcreate', '--yes', '--snapshot', '--name', 'b', 'onn/a']);
    });

    it('maps a missing origin to VolumeNotFoundError, keeping the command error as cause', async () => {
      const { runner, lvm } = setup();
      runner.on(['lvm', 'lvcreate'], { exitCode: 5, stderr: '  Failed to find logical volume "onn/a"\n' });
      const error = await lvm.create({ kind: 'snapshot', vg: 'onn', origin: 'a', name: 'b', tags: [] }).catch((e) => e);
      expect(error).toBeInstanceOf(VolumeNotFoundError);
      expect(error.details).toEqual({ name: 'onn/a' });
      expect(error.cause).toBeInstanceOf(CommandFailedError);
      expect(error.toJSON().cause.code).toBe('E_COMMAND_FAILED');
    });
  });

  describe('change', () => {
    it('protects a base: deactivate, then read-only and activation skip in one lvchange', async () => {
      const { runner, lvm } = setup();
      await lvm.change(base, { readOnly: true, activationSkip: true, active: false });
      expect(runner.calls).toEqual([
        { argv: ['lvm', 'lvchange', '--activate', 'n', `onn/${base.name}`], mutates: true },
        {
          argv: ['lvm', 'lvchange', '--permission', 'r', '--setactivationskip', 'y', `onn/${base.name}`],
          mutates: true,
        },
      ]);
    });

    it('readies a layer: properties first, then activation ignoring the skip flag', async () => {
      const { runner, lvm } = setup();
      await lvm.change(
        { vg: 'onn', name: 'l+1' },
        {
          addTags: ['imgbased:layer'],
          removeTags: ['imgbased:pending'],
          readOnly: false,
          activationSkip: false,
          active: true,
        },
      );
      expect(runner.commandLines).toEqual([
        'lvm lvchange --addtag imgbased:layer --deltag imgbased:pending --permission rw --setactivationskip n onn/l+1',
        'lvm lvchange --activate y --ignoreactivationskip onn/l+1',
      ]);
      expect(runner.calls.every((c) => c.mutates)).toBe(true);
    });

    it('changes tags alone in one call', async () => {
      const { runner, lvm } = setup();
      await lvm.change(base, { removeTags: ['imgbased:pending'] });
      expect(runner.commandLines).toEqual([`lvm lvchange --deltag imgbased:pending onn/${base.name}`]);
    });

    it('activates or deactivates alone in one call', async () => {
      const { runner, lvm } = setup();
      await lvm.change(base, { active: true });
      await lvm.change(base, { active: false });
      expect(runner.commandLines).toEqual([
        `lvm lvchange --activate y --ignoreactivationskip onn/${base.name}`,
        `lvm lvchange --activate n onn/${base.name}`,
      ]);
    });

    it('runs nothing for an empty change', async () => {
      const { runner, lvm } = setup();
      await lvm.change(base, {});
      await lvm.change(base, { addTags: [], removeTags: [] });
      expect(runner.calls).toEqual([]);
    });

    it('passes the context to every command', async () => {
      const { lvm } = setup();
      const events: EngineEvent[] = [];
      await lvm.change(base, { readOnly: true, active: false }, { report: (e) => events.push(e) });
      expect(events.map((e) => e.type)).toEqual(['command', 'command']);
    });

    it('takes a permission the volume has already as done, and applies the rest', async () => {
      const { runner, lvm } = setup();
      runner.on((spec) => spec.argv.includes('--permission'), {
        exitCode: 5,
        stderr: `  Logical volume onn/${base.name} is already read only.\n`,
      });
      await lvm.change(base, { readOnly: true, activationSkip: true, addTags: ['x'] });
      expect(runner.commandLines).toEqual([
        `lvm lvchange --addtag x --permission r --setactivationskip y onn/${base.name}`,
        `lvm lvchange --addtag x --setactivationskip y onn/${base.name}`,
      ]);
    });

    it('takes "already writable" alone as done', async () => {
      const { runner, lvm } = setup();
      runner.on(['lvm', 'lvchange', '--permission'], {
        exitCode: 5,
        stderr: `  Logical volume onn/${base.name} is already writable.\n`,
      });
      await lvm.change(base, { readOnly: false });
      expect(runner.calls).toHaveLength(1);
    });

    it('keeps other lvchange failures', async () => {
      const { runner, lvm } = setup();
      runner.on(['lvm', 'lvchange'], { exitCode: 5, stderr: '  Logical volume onn/x in use.\n' });
      await expect(lvm.change(base, { readOnly: true })).rejects.toBeInstanceOf(CommandFailedError);
      await expect(lvm.change(base, { active: false })).rejects.toBeInstanceOf(CommandFailedError);
    });

    it('maps a missing volume to VolumeNotFoundError', async () => {
      const { runner, lvm } = setup();
      runner.on(['lvm', 'lvchange'], { exitCode: 5, stderr: '  Failed to find logical volume "onn/nope"\n' });
      await expect(lvm.change({ vg: 'onn', name: 'nope' }, { readOnly: true })).rejects.toBeInstanceOf(
        VolumeNotFoundError,
      );
    });

    it('changes the tags of a volume group when the name is empty', async () => {
      const { runner, lvm } = setup();
      await lvm.change({ vg: 'onn', name: '' }, { addTags: ['imgbased:vg'] });
      expect(runner.commandLines).toEqual(['lvm vgchange --addtag imgbased:vg onn']);
      await expect(lvm.change({ vg: 'onn', name: '' }, { readOnly: true })).rejects.toBeInstanceOf(UsageError);
    });
  });

  describe('changeGroup', () => {
    it('adds and removes tags in one vgchange', async () => {
      const { runner, lvm } = setup();
      await lvm.changeGroup('onn', { addTags: ['imgbased:vg'], removeTags: ['old', 'older'] });
      expect(runner.calls).toEqual([
        {
          argv: ['lvm', 'vgchange', '--addtag', 'imgbased:vg', '--deltag', 'old', '--deltag', 'older', 'onn'],
          mutates: true,
        },
      ]);
    });

    it('runs nothing without tags', async () => {
      const { runner, lvm } = setup();
      await lvm.changeGroup('onn', {});
      expect(runner.calls).toEqual([]);
    });

    it('maps a missing group to VolumeNotFoundError', async () => {
      const { runner, lvm } = setup();
      runner.on(['lvm', 'vgchange'], { exitCode: 5, stderr: '  Volume group "nope" not found\n' });
      await expect(lvm.changeGroup('nope', { addTags: ['a'] })).rejects.toBeInstanceOf(VolumeNotFoundError);
    });
  });

  describe('remove', () => {
    it('removes with one lvremove --yes', async () => {
      const { runner, lvm } = setup();
      await lvm.remove(base);
      expect(runner.calls).toEqual([{ argv: ['lvm', 'lvremove', '--yes', `onn/${base.name}`], mutates: true }]);
    });

    it('refuses a ref without a name', async () => {
      const { runner, lvm } = setup();
      await expect(lvm.remove({ vg: 'onn', name: '' })).rejects.toBeInstanceOf(NameInvalidError);
      expect(runner.calls).toEqual([]);
    });
  });

  describe('extendPoolMetadata', () => {
    it('grows the pool metadata with one lvextend --poolmetadatasize in bytes', async () => {
      const { runner, lvm } = setup();
      await lvm.extendPoolMetadata({ vg: 'onn', name: 'pool00' }, 2 ** 30);
      expect(runner.calls).toEqual([
        { argv: ['lvm', 'lvextend', '--yes', '--poolmetadatasize', '1073741824b', 'onn/pool00'], mutates: true },
      ]);
    });

    it('refuses a size that is not a positive whole number, running nothing', async () => {
      const { runner, lvm } = setup();
      await expect(lvm.extendPoolMetadata({ vg: 'onn', name: 'pool00' }, 0)).rejects.toBeInstanceOf(SizeInvalidError);
      await expect(lvm.extendPoolMetadata({ vg: 'onn', name: 'pool00' }, 1.5)).rejects.toBeInstanceOf(SizeInvalidError);
      expect(runner.calls).toEqual([]);
    });
  });
});
