import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner } from '@imgbased/core';
import { ScriptedRunner } from '@imgbased/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SystemdHostPower, SystemdTrialChecker } from './systemd-trial-checker.js';

let directory: string;
let runner: ScriptedRunner;
const settings = { timeoutSeconds: 5, units: [] as string[] };

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'imgbased-checks-'));
  runner = new ScriptedRunner()
    .on(['systemctl', 'is-active'], { stdout: 'active\n' })
    .on(['systemctl', 'list-units'], { stdout: '' });
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function script(kind: string, name: string, mode = 0o755): Promise<string> {
  await mkdir(join(directory, kind), { recursive: true });
  const path = join(directory, kind, name);
  await writeFile(path, '#!/bin/sh\n');
  await chmod(path, mode);
  return path;
}

function checker(): SystemdTrialChecker {
  return Object.assign(new SystemdTrialChecker(runner), { directory });
}

describe('SystemdTrialChecker', () => {
  it('asks systemd, then runs required.d and wanted.d executables in name order', async () => {
    const second = await script('required.d', '50-app');
    const first = await script('required.d', '10-net');
    await script('required.d', 'README', 0o644);
    const wanted = await script('wanted.d', '10-ntp');
    runner.on([second], { exitCode: 1, stderr: 'app did not answer\n' }).on([wanted], { exitCode: 2 });
    const runs = await checker().run(settings);
    expect(runs).toEqual([
      { name: 'default.target reached', required: true, ok: true, detail: 'active' },
      { name: 'no failed units', required: true, ok: true, detail: undefined },
      { name: 'required.d/10-net', required: true, ok: true, detail: undefined },
      { name: 'required.d/50-app', required: true, ok: false, detail: 'exit status 1: app did not answer' },
      { name: 'wanted.d/10-ntp', required: false, ok: false, detail: 'exit status 2' },
    ]);
    expect(runner.commandLines.slice(2)).toEqual([first, second, wanted]);
  });

  it('a failed unit fails the trial; with [trial] units, only those count', async () => {
    runner.on(['systemctl', 'list-units'], {
      stdout: 'app.service loaded failed failed App\nfoo.service loaded failed failed Foo\n',
    });
    const all = await checker().run(settings);
    expect(all[1]).toMatchObject({ ok: false, detail: 'failed: app.service foo.service' });
    const some = await checker().run({ ...settings, units: ['bar.service'] });
    expect(some[1]).toMatchObject({ name: 'none of bar.service failed', ok: true });
  });

  it('a system that has not reached its target fails', async () => {
    runner.on(['systemctl', 'is-active'], { stdout: 'inactive\n', exitCode: 3 });
    expect((await checker().run(settings))[0]).toMatchObject({
      ok: false,
      detail: 'inactive',
    });
  });

  it('reboots without waiting for its own unit', async () => {
    await new SystemdHostPower(runner).reboot();
    expect(runner.commandLines).toEqual(['systemctl --no-block reboot']);
  });

  it('asks for the reboot even when the shutdown it starts has already cancelled the operation', async () => {
    const seen: (AbortSignal | undefined)[] = [];
    const recording: CommandRunner = {
      run: async (request, context) => {
        seen.push(context?.signal);
        if (context?.signal?.aborted) throw new Error('cancelled');
        return { argv: request.argv, exitCode: 0, stdout: '', stderr: '', durationMs: 0, planned: false };
      },
    };
    const stopping = new AbortController();
    stopping.abort(new Error('SIGTERM'));
    await new SystemdHostPower(recording).reboot({ signal: stopping.signal, dryRun: false });
    expect(seen).toEqual([undefined]);
  });
});
