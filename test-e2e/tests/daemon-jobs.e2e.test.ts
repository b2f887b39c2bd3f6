// Changes through the daemon: they run as jobs whose events stream over SSE, they take the very lock
// the CLI takes (a daemon job and an `imgbase` change at the same time: one gets E_LOCKED, never both
// succeed), and cancelling a job through the API leaves LVM exactly as it was (checked with the real lvs).
// The disk has a bootloader (extlinux on /boot): a boot --set-default job changes what
// `imgbase boot --get-default` then shows, and boot jobs end with the data and errors the CLI prints.
import { describe, expect, it } from 'vitest';
import {
  curl,
  EXTLINUX_SETUP,
  IMGBASE_BIN,
  jobIdOf,
  SHIM_PATH,
  SOCK,
  startDaemon,
  stopDaemon,
} from './support/daemon.ts';
import { IMGBASE, LVS, parseLvs, runScenario, sh } from './support/scenario.ts';

const API = `curl -sS --unix-socket ${SOCK}`;
const post = (body: string) =>
  `${API} -X POST -H 'content-type: application/json' --data-binary '${body}' http://localhost/v1/jobs`;
const POST_LAYER = post('{"verb":"layer --add"}');
/** Starts a job and follows its events to the end (the last SSE event is `end`, with the job). */
const runJob = (body: string, file: string) =>
  `${post(body)} > ${file}; ${API} -N http://localhost/v1/jobs/${jobIdOf(file)}/events`;
const SPLIT = '\n=====\n';
/**
 * A tune2fs that hangs for 20 s, after marking that it started: whoever runs it holds the lock then.
 * Waiting for the mark, not a fixed time, keeps the races below deterministic on a loaded machine.
 */
const SLOW_TUNE2FS = `printf '#!/bin/sh\\ntouch /tmp/in-tune2fs\\nsleep 20 >/dev/null 2>&1\\nexec /sbin/tune2fs "$@"\\n' > /tmp/shim/tune2fs && chmod +x /tmp/shim/tune2fs`;
const AWAIT_TUNE2FS =
  'for i in $(seq 1200); do [ -e /tmp/in-tune2fs ] && break; sleep 0.1; done; rm -f /tmp/in-tune2fs';

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
      /* 2 */ sh(`mkdir -p /tmp/shim && ${SLOW_TUNE2FS}`),
      /* 3 */ startDaemon({ PATH: SHIM_PATH }),
      // A daemon job that hangs in tune2fs; meanwhile the CLI tries a change of its own.
      /* 4 */ sh(`${POST_LAYER} > /tmp/job1.json; ${AWAIT_TUNE2FS}; cat /tmp/job1.json`),
      /* 5 */ [IMGBASE, 'layer', '--add', '--json'],
      /* 6 */ LVS,
      // Cancel it, and follow it to its end.
      /* 7 */ sh(
        `ID=${jobIdOf('/tmp/job1.json')}; ${API} -X DELETE http://localhost/v1/jobs/$ID; printf '${SPLIT}'; ${API} -N http://localhost/v1/jobs/$ID/events; printf '${SPLIT}'; ${API} http://localhost/v1/jobs/$ID`,
      ),
      /* 8 */ LVS,
      // The other way round: the CLI hangs in tune2fs, a daemon job tries meanwhile.
      /* 9 */ sh(
        `PATH=/tmp/shim:$PATH ${IMGBASE_BIN} layer --add --json > /tmp/cli.out 2>/dev/null & ${AWAIT_TUNE2FS}; ${POST_LAYER} > /tmp/job2.json; ${API} -N http://localhost/v1/jobs/${jobIdOf('/tmp/job2.json')}/events; wait; printf '${SPLIT}'; cat /tmp/cli.out`,
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
      /* 16 */ sh(SLOW_TUNE2FS),
      /* 17 */ startDaemon({ PATH: SHIM_PATH }),
      /* 18 */ sh(`${POST_LAYER} >/dev/null; ${AWAIT_TUNE2FS}`),
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

    // While the daemon's job holds the lock, the CLI gets E_LOCKED (exit 3: try again later) and changes nothing.
    expect(s.step(5).exitCode).toBe(3);
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
      .map((line) => JSON.parse(line) as { event: string; state?: string; errorCode?: string; jobId?: string });
    const lastRun = log.slice(log.findLastIndex((l) => l.event === 'serving'));
    expect(lastRun.map((l) => l.event)).toEqual(['serving', 'job-started', 'stopping', 'job-cancelled', 'stopped']);
    expect(lastRun[3]).toMatchObject({ state: 'cancelled', errorCode: 'E_CANCELLED', jobId: lastRun[1]!.jobId });
  });

  it('change the entry to boot and the kernel arguments, with the CLI’s data and errors', async () => {
    // The disk has a bootloader (extlinux on /boot), a base and two layers, each with its entry.
    const scenario = await runScenario([
      EXTLINUX_SETUP,
      /* 0 */ [IMGBASE, 'layout', '--init', 'Base-1-0', '--from', 'onn/root'],
      /* 1 */ [IMGBASE, 'layer', '--add'],
      /* 2 */ [IMGBASE, 'layer', '--add'],
      /* 3 */ startDaemon(),
      /* 4 */ sh(runJob('{"verb":"boot --set-default","args":{"layer":"Base-1-0+1"}}', '/tmp/job4.json')),
      /* 5 */ [IMGBASE, 'boot', '--get-default', '--json'],
      /* 6 */ curl('GET', '/v1/boot/default'),
      /* 7 */ [IMGBASE, 'boot', '--set-default', 'Base-1-0+1', '--json'],
      /* 8 */ sh(runJob('{"verb":"boot --set-default","args":{"layer":"Base-1-0+2"},"dryRun":true}', '/tmp/job5.json')),
      /* 9 */ [IMGBASE, 'boot', '--set-default', 'Base-1-0+2', '--dry-run', '--json'],
      /* 10 */ [IMGBASE, 'boot', '--get-default', '--json'],
      /* 11 */ sh(runJob('{"verb":"boot --next","args":{"layer":"Base-1-0+2"}}', '/tmp/job6.json')),
      /* 12 */ [IMGBASE, 'boot', '--next', 'Base-1-0+2', '--json'],
      /* 13 */ sh(
        runJob('{"verb":"boot --edit-kernel-args","args":{"layer":"Base-1-0+1","append":["quiet"]}}', '/tmp/job7.json'),
      ),
      /* 14 */ [IMGBASE, 'boot', '--kernel-args', 'Base-1-0+1', '--json'],
      /* 15 */ curl('GET', '/v1/layers/Base-1-0+1/kernel-args'),
      /* 16 */ stopDaemon,
    ]);
    expect(scenario.step(0).exitCode, scenario.step(0).stderr).toBe(0);
    const s = { step: (i: number) => scenario.step(i + 1) };

    // boot --set-default as a job: it succeeds, and the CLI then boots that layer by default.
    for (const i of [0, 1, 2, 3, 5, 6, 7, 9, 10]) expect(s.step(i).exitCode, s.step(i).stderr).toBe(0);
    const setDefault = sse(s.step(4).stdout).at(-1)!;
    expect(setDefault[0]).toBe('end');
    expect(setDefault[1]).toMatchObject({ verb: 'boot --set-default', state: 'succeeded' });
    const outcome = (setDefault[1] as { outcome: { data: unknown } }).outcome;
    expect(outcome).toMatchObject({
      schemaVersion: 1,
      verb: 'boot --set-default',
      data: { dryRun: false, bootloader: 'extlinux', layer: 'Base-1-0+1' },
    });
    expect(JSON.parse(s.step(5).stdout).data).toMatchObject({ bootloader: 'extlinux', layer: 'Base-1-0+1' });
    expect(s.step(6).stdout).toBe(s.step(5).stdout);
    // The job's data is the CLI's for the same change.
    expect(outcome).toEqual(JSON.parse(s.step(7).stdout));
    // A dry run: the CLI's data, and nothing changed.
    const dry = sse(s.step(8).stdout).at(-1)![1] as { state: string; outcome: unknown };
    expect(dry.state).toBe('succeeded');
    expect(dry.outcome).toEqual(JSON.parse(s.step(9).stdout));
    expect(JSON.parse(s.step(9).stdout).data).toMatchObject({ dryRun: true, layer: 'Base-1-0+2' });
    expect(s.step(10).stdout).toBe(s.step(5).stdout);
    // extlinux has no one-shot boot: the job fails with the CLI's error.
    const next = sse(s.step(11).stdout).at(-1)![1] as { state: string; outcome: { error: { code: string } } };
    expect(s.step(12).exitCode).toBe(1);
    const cliNext = JSON.parse(s.step(12).stdout);
    expect(cliNext.error.code).toBe('E_BOOT_UNSUPPORTED');
    expect(next).toMatchObject({
      state: 'failed',
      outcome: { verb: 'boot --next', error: { code: 'E_BOOT_UNSUPPORTED' } },
    });
    expect(next.outcome).toEqual(cliNext);
    // Kernel arguments edited through a job: the CLI then reads them, and so does the daemon.
    const edited = sse(s.step(13).stdout).at(-1)![1] as { state: string; outcome: { data: { options: string[] } } };
    expect(edited).toMatchObject({ state: 'succeeded', outcome: { verb: 'boot --edit-kernel-args' } });
    expect(edited.outcome.data.options).toContain('quiet');
    expect(s.step(14).exitCode, s.step(14).stderr).toBe(0);
    expect(JSON.parse(s.step(14).stdout).data.options).toEqual(edited.outcome.data.options);
    expect(s.step(15).stdout).toBe(s.step(14).stdout);
    expect(s.step(16).stdout.trim()).toBe('stopped');
  });
});
