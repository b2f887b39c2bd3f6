// Changes through the daemon: they run as jobs whose events stream over SSE, they take the very lock
// the CLI takes (a daemon job and an `imgbase` change at the same time: one gets E_LOCKED, never both
// succeed), and cancelling a job through the API leaves LVM exactly as it was (checked with the real lvs).
import { describe, expect, it } from 'vitest';
import { curl, IMGBASE_BIN, jobIdOf, SHIM_PATH, SOCK, startDaemon, stopDaemon } from './support/daemon.ts';
import { IMGBASE, LVS, parseLvs, runScenario, sh } from './support/scenario.ts';

const API = `curl -sS --unix-socket ${SOCK}`;
const POST_LAYER = `${API} -X POST -H 'content-type: application/json' --data-binary '{"verb":"layer --add"}' http://localhost/v1/jobs`;
const SPLIT = '\n=====\n';

/** The SSE stream's events: [event, data]. */
function sse(text: string): [string, unknown][] {
  return text
    .trim()
    .split('\n\n')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      return [event, JSON.parse(data)];
    });
}

describe('imgbased jobs', () => {
  it('share the CLI lock, stream their events, and a cancelled job leaves LVM as it was', async () => {
    const s = await runScenario([
      /* 0 */ [IMGBASE, 'layout', '--init', 'Base-1-0', '--from', 'onn/root'],
      /* 1 */ LVS,
      /* 2 */ sh(
        `mkdir -p /tmp/shim && printf '#!/bin/sh\\nsleep 20 >/dev/null 2>&1\\nexec /sbin/tune2fs "$@"\\n' > /tmp/shim/tune2fs && chmod +x /tmp/shim/tune2fs`,
      ),
      /* 3 */ startDaemon({ PATH: SHIM_PATH }),
      // A daemon job that hangs in tune2fs; meanwhile the CLI tries a change of its own.
      /* 4 */ sh(`${POST_LAYER} > /tmp/job1.json; sleep 6; cat /tmp/job1.json`),
      /* 5 */ [IMGBASE, 'layer', '--add', '--json'],
      /* 6 */ LVS,
      // Cancel it, and follow it to its end.
      /* 7 */ sh(
        `ID=${jobIdOf('/tmp/job1.json')}; ${API} -X DELETE http://localhost/v1/jobs/$ID; printf '${SPLIT}'; ${API} -N http://localhost/v1/jobs/$ID/events; printf '${SPLIT}'; ${API} http://localhost/v1/jobs/$ID`,
      ),
      /* 8 */ LVS,
      // The other way round: the CLI hangs in tune2fs, a daemon job tries meanwhile.
      /* 9 */ sh(
        `PATH=/tmp/shim:$PATH ${IMGBASE_BIN} layer --add --json > /tmp/cli.out 2>/dev/null & sleep 6; ${POST_LAYER} > /tmp/job2.json; ${API} -N http://localhost/v1/jobs/${jobIdOf('/tmp/job2.json')}/events; wait; printf '${SPLIT}'; cat /tmp/cli.out`,
      ),
      /* 10 */ LVS,
      // Without the slow tune2fs, a daemon job runs to its end; the daemon and the CLI then agree.
      /* 11 */ sh(
        `rm /tmp/shim/tune2fs; ${POST_LAYER} > /tmp/job3.json; ${API} -N http://localhost/v1/jobs/${jobIdOf('/tmp/job3.json')}/events`,
      ),
      /* 12 */ curl('GET', '/v1/layout'),
      /* 13 */ [IMGBASE, 'layout', '--json'],
      /* 14 */ LVS,
      /* 15 */ stopDaemon,
      // SIGTERM while a job runs: the daemon cancels it, waits for its undo, and exits.
      /* 16 */ sh(
        `printf '#!/bin/sh\\nsleep 20 >/dev/null 2>&1\\nexec /sbin/tune2fs "$@"\\n' > /tmp/shim/tune2fs && chmod +x /tmp/shim/tune2fs`,
      ),
      /* 17 */ startDaemon({ PATH: SHIM_PATH }),
      /* 18 */ sh(`${POST_LAYER} >/dev/null; sleep 6`),
      /* 19 */ stopDaemon,
      /* 20 */ LVS,
      /* 21 */ sh('cat /tmp/daemon.log'),
    ]);
    for (const i of [0, 1, 2, 3, 4]) expect(s.step(i).exitCode, s.step(i).stderr).toBe(0);
    const before = s.step(1).stdout;
    expect(JSON.parse(s.step(4).stdout)).toMatchObject({
      schemaVersion: 1,
      verb: 'job',
      data: { jobId: expect.any(String) },
    });

    // While the daemon's job holds the lock, the CLI gets E_LOCKED and changes nothing.
    expect(s.step(5).exitCode).toBe(1);
    expect(JSON.parse(s.step(5).stdout).error.code).toBe('E_LOCKED');
    const during = parseLvs(s.step(6));
    expect(during.find((r) => r.lv_name === 'Base-1-0+2')?.lv_tags).toContain('imgbased:pending');

    // Cancelled: the job ends `cancelled` with E_CANCELLED, its undo is streamed, and lvs is as before.
    expect(s.step(7).exitCode, s.step(7).stderr).toBe(0);
    const [cancelAnswer, stream, finalJob] = s.step(7).stdout.split(SPLIT);
    expect(JSON.parse(cancelAnswer!).data.state).toBe('running');
    const events = sse(stream!);
    expect(events.map(([e]) => e)).toEqual(expect.arrayContaining(['command', 'step', 'command-done', 'undo']));
    expect(events.find(([e, data]) => e === 'step' && (data as { step: string }).step === 'uuid')).toBeDefined();
    expect(events.at(-1)![0]).toBe('end');
    const job = JSON.parse(finalJob!).data;
    expect(job.state).toBe('cancelled');
    expect(job.outcome).toMatchObject({ schemaVersion: 1, verb: 'layer --add', error: { code: 'E_CANCELLED' } });
    expect(s.step(8).stdout, 'lvs after the cancelled job').toBe(before);

    // The CLI held the lock: the daemon's job failed with E_LOCKED, the CLI's change succeeded.
    const [jobStream, cliOut] = s.step(9).stdout.split(SPLIT);
    const end = sse(jobStream!).at(-1)!;
    expect(end[0]).toBe('end');
    expect(end[1]).toMatchObject({ state: 'failed', outcome: { error: { code: 'E_LOCKED', name: 'LockedError' } } });
    expect(JSON.parse(cliOut!).data.created).toEqual(['Base-1-0+2']);
    const afterRace = parseLvs(s.step(10));
    expect(afterRace.some((r) => r.lv_tags.includes('pending'))).toBe(false);
    expect(afterRace.filter((r) => r.lv_tags === 'imgbased:layer').map((r) => r.lv_name)).toEqual([
      'Base-1-0+1',
      'Base-1-0+2',
    ]);

    // A job that runs to its end.
    const done = sse(s.step(11).stdout).at(-1)!;
    expect(done[1]).toMatchObject({
      state: 'succeeded',
      outcome: { verb: 'layer --add', data: { created: ['Base-1-0+3'], dryRun: false } },
    });
    expect(s.step(12).stdout).toBe(s.step(13).stdout);
    expect(
      parseLvs(s.step(14))
        .filter((r) => r.lv_tags === 'imgbased:layer')
        .map((r) => r.lv_name),
    ).toEqual(['Base-1-0+1', 'Base-1-0+2', 'Base-1-0+3']);
    expect(s.step(15).stdout.trim()).toBe('stopped');

    expect(s.step(19).stdout.trim()).toBe('stopped');
    expect(s.step(20).stdout, 'lvs after a stop in the middle of a job').toBe(s.step(14).stdout);
    const log = s
      .step(21)
      .stdout.trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; state?: string; code?: string });
    const lastRun = log.slice(log.findLastIndex((l) => l.msg === 'serving'));
    expect(lastRun.map((l) => l.msg)).toEqual(['serving', 'job started', 'stopping', 'job ended', 'stopped']);
    expect(lastRun[3]).toMatchObject({ state: 'cancelled', code: 'E_CANCELLED' });
  });
});
