// The daemon under a real systemd (PID 1 of the VM, `init: 'systemd'`), with the unit files the
// package ships (apps/daemon/systemd/, only ExecStart pointed at the checkout by a drop-in): socket
// activation, Type=notify readiness, a stop in the middle of a job that undoes it and keeps the socket,
// the daemon's entries in the journal, and the unit's sandbox: `systemd-analyze security` at 5.0 or
// lower while a real `layer --add` (LVM, mount, boot entry on /boot) still works through it, and who may
// call decided from peer credentials (a user in the group imgbased reads, one outside cannot connect). Every outcome is read back from systemctl, journalctl, lvs,
// stat and curl, never from imgbased's own view.
import { describe, expect, it } from 'vitest';
import { curl, EXTLINUX_SETUP, jobIdOf, SOCK } from './support/daemon.ts';
import { IMGBASE, LVS, parseLvs, sh } from './support/scenario.ts';
import { INSTALL, runUnderSystemd, SERVICE, SHIM_DIR, SOCKET, show, showStep } from './support/systemd.ts';

const POST_LAYER = `curl -sS --unix-socket ${SOCK} -X POST -H 'content-type: application/json' --data-binary '{"verb":"layer --add"}' http://localhost/v1/jobs`;
/** A curl run as USER (in its groups) through setpriv; the HTTP status on a last line. */
const curlAs = (user: string, method: string, url: string, body?: string) =>
  sh(
    `setpriv --reuid=${user} --regid=$(id -g ${user}) --init-groups curl -sS -w '\n%{http_code}' --unix-socket ${SOCK} -X ${method}${body ? ` -H 'content-type: application/json' --data-binary '${body}'` : ''} http://localhost${url}`,
  );
const statusOf = (stdout: string) => Number(stdout.slice(stdout.lastIndexOf('\n') + 1));
const bodyOf = (stdout: string) => JSON.parse(stdout.slice(0, stdout.lastIndexOf('\n')));

type JournalEntry = Record<string, string | undefined>;

describe('imgbased under systemd', () => {
  it('is socket-activated, stops cleanly in the middle of a job, is ready when it serves, and logs to the journal', async () => {
    const s = await runUnderSystemd(
      [
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
        /* 8 */ sh(`touch ${SHIM_DIR}/slow`),
        /* 9 */ LVS,
        /* 10 */ sh(
          `${POST_LAYER} > /tmp/job.json; for i in $(seq 1200); do [ -e ${SHIM_DIR}/in-tune2fs ] && break; sleep 0.1; done; cat /tmp/job.json`,
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
        /* 20 */ sh(`rm ${SHIM_DIR}/slow; systemctl start ${SERVICE}`),
        /* 21 */ showStep(
          'ActiveState,SubState,StatusText,MainPID,ExecMainStartTimestampMonotonic,ActiveEnterTimestampMonotonic',
          SERVICE,
        ),
        /* 22 */ curl('GET', '/v1/layout/layers'),
        // (e) who calls, from the connection's peer credentials: a user in the group imgbased, one outside.
        /* 23 */ sh('useradd -M -N -G imgbased e2e-reader && useradd -M -N e2e-outsider'),
        /* 24 */ curlAs('e2e-reader', 'GET', '/v1/layout/layers'),
        /* 25 */ curlAs('e2e-reader', 'POST', '/v1/jobs', '{"verb":"layer --add"}'),
        /* 26 */ curlAs('e2e-outsider', 'GET', '/v1/layout/layers'),
        // (f) a real change under the sandbox, by root: LVM, the new layer mounted, its boot entry on /boot.
        /* 27 */ sh(
          `${POST_LAYER} > /tmp/job2.json & echo $! >&2; wait $! && curl -sSN --max-time 300 --unix-socket ${SOCK} http://localhost/v1/jobs/${jobIdOf('/tmp/job2.json')}/events`,
        ),
        /* 28 */ LVS,
        /* 29 */ sh(
          'grep -c "root=/dev/onn/Base-1-0+2 " /boot/extlinux/extlinux.conf; ls /boot/Base-1-0+2; blkid -o value -s UUID /dev/onn/Base-1-0+1 /dev/onn/Base-1-0+2',
        ),
        /* 30 */ ['systemd-analyze', 'security', SERVICE],
        // (d) the journal, read back by journalctl once journald has stored what it was sent (--sync).
        /* 31 */ sh(`systemctl stop ${SERVICE}; journalctl --sync; echo ${jobIdOf('/tmp/job.json')}`),
        /* 32 */ ['journalctl', '-u', 'imgbased', '-o', 'json', '--no-pager'],
        // The shipped units (with the drop-in) as systemd's own linter sees them.
        /* 33 */ ['systemd-analyze', 'verify', SOCKET, SERVICE],
        // The guest: systemd is PID 1; of the host's units, udev and getty are masked.
        /* 34 */ sh('cat /proc/1/comm; systemctl show -p LoadState systemd-udevd.service getty@tty1.service'),
      ],
      // extlinux on the /boot partition, before the layout: layers get boot entries.
      [EXTLINUX_SETUP],
    );
    for (const i of [0, 1, 5, 6, 10, 13, 20, 22, 23, 24, 25, 27, 28, 29, 30, 31, 32, 33]) {
      expect(s.step(i).exitCode, `step ${i}: ${s.step(i).stderr}`).toBe(0);
    }

    expect(s.step(33).stdout + s.step(33).stderr, 'systemd-analyze verify').toBe('');
    expect(s.step(34).stdout).toBe('systemd\nLoadState=masked\n\nLoadState=masked\n');

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

    // (e) A member of the group imgbased reads; its change is refused; a user outside cannot connect.
    expect(statusOf(s.step(24).stdout), s.step(24).stderr).toBe(200);
    expect(bodyOf(s.step(24).stdout)).toMatchObject({ verb: 'layout --layers', data: { layers: ['Base-1-0+1'] } });
    expect(statusOf(s.step(25).stdout)).toBe(403);
    expect(bodyOf(s.step(25).stdout).error.code).toBe('E_NOT_ROOT');
    expect(s.step(26).exitCode, 'curl: could not connect').toBe(7);
    expect(s.step(26).stderr).toMatch(/Permission denied|Couldn't connect/i);

    // (f) Root's layer --add under the sandbox: the job succeeded, the new layer is committed (not
    // pending), it got a UUID of its own, its kernel was copied from it onto /boot, and its entry is there.
    const events = s.step(27).stdout;
    const end = JSON.parse(events.slice(events.lastIndexOf('data: ') + 'data: '.length));
    expect(end, events).toMatchObject({ verb: 'layer --add', state: 'succeeded' });
    const added = parseLvs(s.step(28)).find((r) => r.lv_name === 'Base-1-0+2');
    expect(added, 'the new layer in lvs').toBeDefined();
    expect(added!.lv_tags).not.toContain('imgbased:pending');
    const [entries, ...rest] = s.step(29).stdout.trim().split('\n');
    expect(entries, 'one extlinux entry for the new layer').toBe('1');
    expect(rest.slice(0, -2).join(' ')).toMatch(/vmlinuz-6\.1\.0-e2e/);
    const [uuid1, uuid2] = rest.slice(-2);
    expect(uuid2).toMatch(/^[0-9a-f-]{36}$/);
    expect(uuid2).not.toBe(uuid1);
    // The unit's exposure, as systemd rates it, with everything above working under it.
    const figure = /Overall exposure level for imgbased\.service: (\d+\.\d)/.exec(s.step(30).stdout)?.[1];
    console.log(`systemd-analyze security imgbased.service: ${figure} (of 10; was 8.4 before the sandbox)`);
    expect(Number(figure)).toBeLessThanOrEqual(5.0);

    // (d) The journal holds the daemon's entries with their priority and identifier, as the service's.
    expect(s.step(31).stdout.trim()).toBe(jobId);
    const journal = s
      .step(32)
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
    // Each job's entries name who asked: root, and the pid of the curl that posted it.
    const postPid = s.step(27).stderr.trim().split('\n')[0];
    const secondStart = mine.find((e) => e.IMGBASED_JOB_ID === end.id && e.IMGBASED_EVENT === 'job-started');
    expect(secondStart, 'the second job started, in the journal').toMatchObject({
      IMGBASED_CALLER_UID: '0',
      IMGBASED_CALLER_PID: postPid,
    });
    const secondEnd = mine.find((e) => e.IMGBASED_JOB_ID === end.id && e.IMGBASED_EVENT === 'job-finished');
    expect(secondEnd).toMatchObject({ IMGBASED_CALLER_UID: '0', IMGBASED_CALLER_PID: postPid });
    expect(cancelled).toMatchObject({ IMGBASED_CALLER_UID: '0' });
    const names = mine.map((e) => e.IMGBASED_EVENT);
    expect(names.filter((e) => e === 'serving')).toHaveLength(2);
    expect(names.filter((e) => e === 'stopped')).toHaveLength(2);
  });
});
