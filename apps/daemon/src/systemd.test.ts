import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScriptedRunner } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { groupId, listenTarget, notify } from './systemd.js';

describe('systemd integration', () => {
  it('serves the socket systemd passed only when it was passed to this process', () => {
    expect(listenTarget({ LISTEN_FDS: '1', LISTEN_PID: '42' }, 42, '/s')).toEqual({ fd: 3 });
    expect(listenTarget({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42, '/s')).toEqual({ path: '/s' });
    expect(listenTarget({}, 42, '/s')).toEqual({ path: '/s' });
    expect(() => listenTarget({ LISTEN_FDS: '2', LISTEN_PID: '42' }, 42, '/s')).toThrow(/exactly one/);
  });

  it('finds the gid of a group, or nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'imgbased-group-'));
    try {
      await writeFile(path.join(dir, 'group'), 'root:x:0:\nimgbased:x:998:alice\n');
      expect(await groupId('imgbased', path.join(dir, 'group'))).toBe(998);
      expect(await groupId('wheel', path.join(dir, 'group'))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('notifies through systemd-notify, only under systemd', async () => {
    const runner = new ScriptedRunner();
    await notify(runner, {}, ['--ready']);
    expect(runner.calls).toEqual([]);
    await notify(runner, { NOTIFY_SOCKET: '/run/systemd/notify' }, ['--ready']);
    expect(runner.calls.map((c) => c.argv)).toEqual([['systemd-notify', `--pid=${process.pid}`, '--ready']]);
  });

  it('ships units for notify-type service and socket activation', async () => {
    const unit = (name: string) => readFile(new URL(`../systemd/${name}`, import.meta.url), 'utf8');
    const service = await unit('imgbased.service');
    expect(service).toMatch(/^Type=notify$/m);
    expect(service).toMatch(/^NotifyAccess=all$/m);
    expect(service).not.toMatch(/^RuntimeDirectory=/m);
    const socket = await unit('imgbased.socket');
    expect(socket).toMatch(/^ListenStream=\/run\/imgbased\/imgbased.sock$/m);
    expect(socket).toMatch(/^SocketMode=0660$/m);
  });
});
