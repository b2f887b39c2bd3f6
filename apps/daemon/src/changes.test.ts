import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CommandSpec, LockedError } from '@imgbased/core';
import { MemoryLock } from '@imgbased/core/testing';
import { PidFileLock } from '@imgbased/system';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeCounter, CountingLock, hostState, LVM_STATE_ARGV } from './changes.js';

describe('CountingLock', () => {
  it('counts taking and letting go of the lock, not a refusal', async () => {
    const changes = new ChangeCounter();
    const lock = new CountingLock(new MemoryLock(), changes);
    const held = await lock.acquire('layer --add');
    expect(changes.value).toBe(1);
    await expect(lock.acquire('base --add')).rejects.toBeInstanceOf(LockedError);
    expect(changes.value).toBe(1);
    await held.release();
    expect(changes.value).toBe(2);
  });
});

describe('hostState', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('is the pools report, the active devices and the lock directory: another process’s change shows', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'imgbased-state-'));
    const argvs: (readonly string[])[] = [];
    const runner = {
      run: async (spec: CommandSpec) => {
        argvs.push(spec.argv);
        const stdout = '  onn|7|pool00|25.00|5.00\n';
        return { argv: spec.argv, exitCode: 0, stdout, stderr: '', durationMs: 1, planned: false };
      },
    };
    const state = hostState({ runner, lockDir: dir, mapperDevices: async () => ['onn-root', 'control', 'onn-pool00'] });
    const before = await state();
    expect(before).toMatch(/^onn\|7\|pool00\|25\.00\|5\.00\ncontrol onn-pool00 onn-root\n\d+\/\d+$/);
    expect(argvs).toEqual([LVM_STATE_ARGV]);
    expect(await state()).toBe(before);
    // `imgbase` in another process makes a change: it takes and lets go of the same pid-file lock.
    await new Promise((resolve) => setTimeout(resolve, 20)); // past the clock tick that stamped the directory
    await (await new PidFileLock(dir).acquire('boot --set-default')).release();
    expect(await state()).not.toBe(before);
  });
});
