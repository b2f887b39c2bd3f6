// The daemon under a real systemd (PID 1 of the VM, `init: 'systemd'`), with the unit files the
// package ships (apps/daemon/systemd/, only ExecStart pointed at the checkout by a drop-in): socket
// activation, Type=notify readiness, a stop in the middle of a job that undoes it and keeps the socket,
// and the daemon's entries in the journal. Every outcome is read back from systemctl, journalctl, lvs,
// stat and curl, never from imgbased's own view.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildThinpHostDisk, makeScratchDir, repoRoot, runInVm } from '../src/index.ts';
import { curl, DAEMON, jobIdOf, SHIM_PATH, SOCK } from './support/daemon.ts';
import { IMGBASE, LVS, parseLvs, type Step, type StepResult, sh } from './support/scenario.ts';

const UNITS = path.join(repoRoot, 'apps/daemon/systemd');
const RUN_STEPS = path.join(repoRoot, 'test-e2e/guest-bin/run-steps.mjs');
const SERVICE = 'imgbased.service';
const SOCKET = 'imgbased.socket';
const POST_LAYER = `curl -sS --unix-socket ${SOCK} -X POST -H 'content-type: application/json' --data-binary '{"verb":"layer --add"}' http://localhost/v1/jobs`;

/** The unit files as a package installs them; the drop-in only runs the checkout's daemon. */
const INSTALL = [
  'set -e',
  // A tune2fs that hangs while /tmp/slow exists (and says so): a job to stop the daemon in the middle of.
  `mkdir -p /tmp/shim && printf '#!/bin/sh\\n[ -e /tmp/slow ] && touch /tmp/in-tune2fs && sleep 120 >/dev/null 2>&1\\nexec /sbin/tune2fs "$@"\\n' > /tmp/shim/tune2fs && chmod +x /tmp/shim/tune2fs`,
  `install -m 0644 ${UNITS}/${SERVICE} ${UNITS}/${SOCKET} /etc/systemd/system/`,
  `mkdir -p /etc/systemd/system/${SERVICE}.d`,
  `printf '[Service]\\nExecStart=\\nExecStart=${DAEMON}\\nEnvironment=PATH=${SHIM_PATH}\\n' > /etc/systemd/system/${SERVICE}.d/checkout.conf`,
  `install -m 0644 ${UNITS}/imgbased.sysusers.conf /usr/lib/sysusers.d/imgbased.conf`,
  // What a package's scripts do: make the group, load the units, enable and start the socket.
  'systemd-sysusers imgbased.conf',
  'systemctl daemon-reload',
  `systemctl enable --now ${SOCKET}`,
].join('\n');

/** `systemctl show -p A,B UNIT…` → one record per unit. */
function show(result: StepResult): Record<string, string>[] {
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout
    .trim()
    .split('\n\n')
    .map((block) =>
      Object.fromEntries(
        block.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      ),
    );
}
const showStep = (properties: string, ...units: string[]) => ['systemctl', 'show', '-p', properties, ...units];

type JournalEntry = Record<string, string | undefined>;

/**
 * Like runScenario, on a fresh thinp host disk, but with systemd as PID 1; one boot also checks the
 * harness's mode itself: the command (run-steps, then a last word on stderr and exit code 7) ran as a
 * service of systemd, and its stdout, stderr and exit code came back as without systemd.
 */
async function runUnderSystemd(steps: (Step | string[])[]): Promise<{ step(index: number): StepResult }> {
  const dir = await makeScratchDir('daemon-systemd');
  try {
    const disk = await buildThinpHostDisk(path.join(dir, 'host.img'));
    const all = [
      { argv: ['lvm', 'vgchange', '-ay', 'onn'] },
      ...steps.map((s) => (Array.isArray(s) ? { argv: s } : s)),
    ];
    const run = await runInVm({
      command: ['sh', '-c', 'node "$0" "$1"; echo "run-steps: $?" >&2; exit 7', RUN_STEPS, JSON.stringify(all)],
      disks: [{ path: disk.path }],
      init: 'systemd',
      timeoutMs: 420_000,
    });
    expect(run.stderr, run.consoleTail).toBe('run-steps: 0\n');
    expect(run.exitCode).toBe(7);
    const results = JSON.parse(run.stdout) as StepResult[];
    expect(results[0]!.exitCode, results[0]!.stderr).toBe(0);
    return { step: (index) => results[index + 1]! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('imgbased under systemd', () => {
  it('is socket-activated, stops cleanly in the middle of a job, is ready when it serves, and logs to the journal', async () => {
    const s = await runUnderSystemd([
      /* 0 */ [IMGBASE, 'layout', '--init', 'Base-1-0', '--from', 'onn/root'],
      /* 1 */ sh(INSTALL),
      // (a) socket activation: systemd listens, the service waits for the first connection.
      /* 2 */ showStep('ActiveState,SubState', SOCKET, SERVICE),
      /* 3 */ ['stat', '-c', '%F %U:%G %a', SOCK],
      /* 4 */ ['getent', 'group', 'imgbased'],
      /* 5 */ curl('GET', '/v1/layout'),
      /* 6 */ [IMGBASE, 'layout', '--json'],
      /* 7 */ showStep('ActiveState,SubState,StatusText,MainPID', SERVICE),
      // (c) a stop while a job changes LVM: the job is cancelled and undone, the socket stays.
      /* 8 */ sh('touch /tmp/slow'),
      /* 9 */ LVS,
      /* 10 */ sh(
        `${POST_LAYER} > /tmp/job.json; for i in $(seq 1200); do [ -e /tmp/in-tune2fs ] && break; sleep 0.1; done; cat /tmp/job.json`,
      ),
      /* 11 */ LVS,
      /* 12 */ ['cat', '/run/imgbased/lock'],
      /* 13 */ ['systemctl', 'stop', SERVICE],
      /* 14 */ showStep('ActiveState,SubState,Result,ExecMainCode,ExecMainStatus', SERVICE),
      /* 15 */ showStep('ActiveState,SubState', SOCKET),
      /* 16 */ ['systemctl', 'is-failed', SERVICE],
      /* 17 */ LVS,
      /* 18 */ ['ls', '-A', '/run/imgbased'],
      /* 19 */ ['stat', '-c', '%F %U:%G %a', SOCK],
      // (b) Type=notify: `systemctl start` returns once the daemon said it is ready; it serves the
      // socket systemd kept.
      /* 20 */ sh(`rm /tmp/slow; systemctl start ${SERVICE}`),
      /* 21 */ showStep(
        'ActiveState,SubState,StatusText,MainPID,ExecMainStartTimestampMonotonic,ActiveEnterTimestampMonotonic',
        SERVICE,
      ),
      /* 22 */ curl('GET', '/v1/layout/layers'),
      // (d) the journal, read back by journalctl once journald has stored what it was sent (--sync).
      /* 23 */ sh(`systemctl stop ${SERVICE}; journalctl --sync; echo ${jobIdOf('/tmp/job.json')}`),
      /* 24 */ ['journalctl', '-u', 'imgbased', '-o', 'json', '--no-pager'],
      // The shipped units (with the drop-in) as systemd's own linter sees them.
      /* 25 */ ['systemd-analyze', 'verify', SOCKET, SERVICE],
      // The guest: systemd is PID 1; of the host's units, udev and getty are masked.
      /* 26 */ sh('cat /proc/1/comm; systemctl show -p LoadState systemd-udevd.service getty@tty1.service'),
    ]);
    for (const i of [0, 1, 5, 6, 10, 13, 20, 22, 23, 24, 25]) {
      expect(s.step(i).exitCode, `step ${i}: ${s.step(i).stderr}`).toBe(0);
    }

    expect(s.step(25).stdout + s.step(25).stderr, 'systemd-analyze verify').toBe('');
    expect(s.step(26).stdout).toBe('systemd\nLoadState=masked\n\nLoadState=masked\n');

    // (a) Before any request: the socket listens (root:imgbased 0660, the group made by sysusers)
    // and the service is not running; the first request starts it and answers what the CLI prints.
    expect(show(s.step(2))).toEqual([
      { ActiveState: 'active', SubState: 'listening' },
      { ActiveState: 'inactive', SubState: 'dead' },
    ]);
    expect(s.step(4).stdout).toMatch(/^imgbased:x:\d+:/);
    expect(s.step(3).stdout.trim()).toBe('socket root:imgbased 660');
    expect(JSON.parse(s.step(5).stdout)).toMatchObject({ schemaVersion: 1, verb: 'layout' });
    expect(s.step(5).stdout).toBe(s.step(6).stdout);
    const [activated] = show(s.step(7));
    expect(activated).toMatchObject({ ActiveState: 'active', SubState: 'running' });
    const firstPid = Number(activated!.MainPID);
    expect(firstPid).toBeGreaterThan(0);

    // (c) The job was in the middle (its new volume still pending, the lock held by the daemon)…
    const before = s.step(9).stdout;
    const jobId = JSON.parse(s.step(10).stdout).data.jobId as string;
    expect(jobId).toMatch(/^[0-9a-f]+$/);
    expect(parseLvs(s.step(11)).find((r) => r.lv_name === 'Base-1-0+2')?.lv_tags).toContain('imgbased:pending');
    expect(JSON.parse(s.step(12).stdout)).toMatchObject({ pid: firstPid, purpose: 'layer --add' });
    // …when the stop came: well within TimeoutStopSec, the unit inactive and not failed (the daemon
    // exited 0 after its undo), the socket still listening on the same file, the lock file gone (released
    // once the undo was done), LVM as before.
    expect(s.step(13).durationMs).toBeLessThan(60_000);
    expect(show(s.step(14))).toEqual([
      { ActiveState: 'inactive', SubState: 'dead', Result: 'success', ExecMainCode: '1', ExecMainStatus: '0' },
    ]);
    expect(show(s.step(15))).toEqual([{ ActiveState: 'active', SubState: 'listening' }]);
    expect(s.step(16).exitCode).not.toBe(0);
    expect(s.step(16).stdout.trim()).toBe('inactive');
    expect(s.step(17).stdout, 'lvs after the stop in the middle of the job').toBe(before);
    expect(s.step(18).stdout.trim().split('\n')).toEqual(['imgbased.sock']);
    expect(s.step(19).stdout.trim()).toBe('socket root:imgbased 660');

    // (b) `systemctl start` returned only after READY=1: the unit is already running with the status
    // text the daemon sent along, and it went active well after its process started (Node's start-up),
    // not at fork as a simple service does. The new process serves the kept socket.
    const [started] = show(s.step(21));
    expect(started).toMatchObject({
      ActiveState: 'active',
      SubState: 'running',
      StatusText: 'Serving the imgbased API',
    });
    expect(Number(started!.MainPID)).not.toBe(firstPid);
    const readyAfterUs =
      Number(started!.ActiveEnterTimestampMonotonic) - Number(started!.ExecMainStartTimestampMonotonic);
    expect(readyAfterUs).toBeGreaterThan(200_000);
    expect(s.step(20).durationMs).toBeGreaterThanOrEqual(readyAfterUs / 1000 - 50);
    expect(JSON.parse(s.step(22).stdout)).toMatchObject({ verb: 'layout --layers', data: { layers: ['Base-1-0+1'] } });

    // (d) The journal holds the daemon's entries with their priority and identifier, as the service's.
    expect(s.step(23).stdout.trim()).toBe(jobId);
    const journal = s
      .step(24)
      .stdout.trim()
      .split('\n')
      .map((line) => JSON.parse(line) as JournalEntry);
    const mine = journal.filter((e) => e.SYSLOG_IDENTIFIER === 'imgbased');
    expect(mine.length).toBeGreaterThan(0);
    for (const entry of mine) {
      // journald reads _SYSTEMD_UNIT from the sender's /proc, and `logger` may be gone by then; each
      // entry names the daemon as OBJECT_PID, which gives OBJECT_SYSTEMD_UNIT (what `journalctl -u` matches).
      expect(entry._SYSTEMD_UNIT ?? entry.OBJECT_SYSTEMD_UNIT).toBe(SERVICE);
      expect(entry.PRIORITY).toMatch(/^[0-7]$/);
    }
    // The structured fields: the cancelled job by its id, and both runs serving then stopping.
    const cancelled = mine.find((e) => e.IMGBASED_JOB_ID === jobId && e.IMGBASED_EVENT === 'job-cancelled');
    expect(cancelled, 'the cancelled job in the journal').toMatchObject({
      PRIORITY: '6',
      IMGBASED_VERB: 'layer --add',
      IMGBASED_ERROR_CODE: 'E_CANCELLED',
    });
    const events = mine.map((e) => e.IMGBASED_EVENT);
    expect(events.filter((e) => e === 'serving')).toHaveLength(2);
    expect(events.filter((e) => e === 'stopped')).toHaveLength(2);
  });
});
