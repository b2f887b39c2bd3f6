// The journal sink against the real thing: systemd-journald started on its own (no systemd as PID 1)
// in a private mount namespace, with a fresh tmpfs on /run (and on /var/log/journal), so it touches
// nothing of this host's; entries are sent by the real util-linux `logger --journald` and read back
// with the real `journalctl -o json`. The commands join the namespace through `nsenter` (test plumbing:
// the sink's runner is the real ExecaCommandRunner, its argv prefixed). The last test runs the built
// daemon itself in that namespace, with stderr on a journal stream as systemd would connect it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImgbasedClient } from '@imgbased/client';
import type { CommandResult, CommandRunner, CommandSpec, OperationContext } from '@imgbased/core';
import { ExecaCommandRunner } from '@imgbased/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, JournalSink, stderrSink } from './log.js';

const JOURNALD = '/lib/systemd/systemd-journald';
const DAEMON_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/imgbased');
const DAEMON_BUNDLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/entry.js');
const tools = [JOURNALD, '/usr/bin/logger', '/usr/bin/journalctl', '/usr/bin/unshare', '/usr/bin/nsenter'];
const missing = tools.filter((t) => !existsSync(t));
const isRoot = process.getuid?.() === 0;
/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified in the hybrid layout). */
const cgroup2 = readFileSync('/proc/self/mounts', 'utf8')
  .split('\n')
  .map((line) => line.split(' '))
  .find((fields) => fields[2] === 'cgroup2')?.[1];

/** Runs commands inside the journal's mount namespace. */
class InNamespace implements CommandRunner {
  private readonly runner = new ExecaCommandRunner();
  constructor(private readonly pid: number) {}
  run(spec: CommandSpec, context?: OperationContext): Promise<CommandResult> {
    return this.runner.run({ ...spec, argv: ['nsenter', '-t', String(this.pid), '-m', '--', ...spec.argv] }, context);
  }
}

interface JournalRecord {
  [field: string]: string | undefined;
}

let journald: ChildProcess | undefined;
let ns: InNamespace;

async function journal(...match: string[]): Promise<JournalRecord[]> {
  const { stdout } = await ns.run({ argv: ['journalctl', '-o', 'json', '--no-pager', ...match], mutates: false });
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JournalRecord);
}

/** The entries matching, once `done` says all are there (journald stores them asynchronously). */
async function waitFor(done: (records: JournalRecord[]) => boolean, ...match: string[]): Promise<JournalRecord[]> {
  for (let i = 0; i < 100; i++) {
    const records = await journal(...match);
    if (done(records)) return records;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return journal(...match);
}

describe.skipIf(missing.length > 0 || !isRoot)(
  `the journal sink with a real journald (needs root, ${tools.join(', ')})`,
  () => {
    beforeAll(async () => {
      const setup = [
        'mount -t tmpfs tmpfs /run',
        'if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi',
        `exec ${JOURNALD}`,
      ].join(' && ');
      // `unshare` without --fork execs the shell, which execs journald: the child's pid is the namespace's.
      journald = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', setup], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      ns = new InNamespace(journald.pid!);
      for (let i = 0; i < 100; i++) {
        const probe = await ns.run({
          argv: ['test', '-S', '/run/systemd/journal/socket'],
          mutates: false,
          okExitCodes: [0, 1],
        });
        if (probe.exitCode === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('systemd-journald did not make its socket');
    });

    afterAll(async () => {
      journald?.kill('SIGTERM');
    });

    it('sends structured entries that journalctl -o json reads back with their fields, in order', async () => {
      const fallback: string[] = [];
      const sink = new JournalSink(ns, stderrSink({ write: (l) => fallback.push(l) }));
      const log = createLogger(sink);
      const tag = `t${process.pid}${Date.now()}`;
      log.info(`job ${tag} started: layer --add`, {
        event: 'job-started',
        jobId: tag,
        verb: 'layer --add',
        args: { from: 'Base-1-0' },
        dryRun: true,
      });
      log.warn(`job ${tag} failed: layer --add\nsecond line`, {
        event: 'job-failed',
        jobId: tag,
        verb: 'layer --add',
        error: { code: 'E_LOCKED', message: 'Another operation holds the lock' },
      });
      await log.flush();
      expect(fallback).toEqual([]);

      const records = await waitFor((r) => r.length >= 2, `IMGBASED_JOB_ID=${tag}`);
      expect(records).toHaveLength(2);
      expect(records.map((r) => [r.MESSAGE, r.PRIORITY, r.IMGBASED_EVENT])).toEqual([
        [`job ${tag} started: layer --add`, '6', 'job-started'],
        [`job ${tag} failed: layer --add\nsecond line`, '4', 'job-failed'],
      ]);
      for (const r of records) {
        expect(r).toMatchObject({
          SYSLOG_IDENTIFIER: 'imgbased',
          SYSLOG_PID: String(process.pid),
          // journald looked up the process named by OBJECT_PID (this one, alive), not logger.
          OBJECT_PID: String(process.pid),
          OBJECT_COMM: readFileSync('/proc/self/comm', 'utf8').trim(),
          IMGBASED_VERB: 'layer --add',
          _TRANSPORT: 'journal',
        });
      }
      expect(records[0]).toMatchObject({ IMGBASED_ARGS: '{"from":"Base-1-0"}', IMGBASED_DRY_RUN: 'true' });
      expect(records[0]!.IMGBASED_ERROR_CODE).toBeUndefined();
      expect(records[1]!.IMGBASED_ERROR_CODE).toBe('E_LOCKED');
    });

    it('is what the daemon uses when its stderr is the journal’s stream, and journalctl -u finds every entry', async () => {
      expect(existsSync(DAEMON_BUNDLE), 'build the daemon first: pnpm --filter @imgbased/daemon build').toBe(true);
      expect(cgroup2, 'a cgroup v2 mount').toBeDefined();
      const dir = await mkdtemp(path.join(tmpdir(), 'imgbased-journal-'));
      const socketPath = path.join(dir, 'imgbased.sock');
      // A cgroup named like a unit: journald takes a process's unit from its cgroup path.
      const unit = `imgbased-journal-test-${process.pid}.service`;
      const cgroup = path.join(cgroup2!, unit);
      await mkdir(cgroup);
      try {
        // As systemd does for StandardError=journal: stderr on a journal stream, JOURNAL_STREAM its dev:ino
        // (systemd-cat connects the stream; stat -L gives the socket's device and inode), in the unit's cgroup.
        const script = `echo $$ > ${cgroup}/cgroup.procs && export JOURNAL_STREAM="$(stat -L -c %d:%i /proc/self/fd/2)" && exec node ${DAEMON_BIN} --debug --socket ${socketPath}`;
        const daemon = spawn(
          'nsenter',
          ['-t', String(journald!.pid), '-m', '--', 'systemd-cat', '-t', 'imgbased-stream', 'sh', '-c', script],
          { stdio: 'ignore' },
        );
        const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
        for (let i = 0; i < 300 && !existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 100));
        const client = new ImgbasedClient({ socketPath });
        const bootDefault = await client.raw('GET', '/v1/boot/default');
        // A dry-run job on this host (no LVM layout here): it fails, and its end is logged with its code.
        const id = await client.startJob({ verb: 'layer --add', dryRun: true });
        let job = await client.job(id);
        for (let i = 0; i < 100 && job.state === 'running'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          job = await client.job(id);
        }
        expect(job.state).toBe('failed');
        const code = job.outcome && 'error' in job.outcome ? job.outcome.error.code : undefined;
        expect(code).toMatch(/^E_/);
        daemon.kill('SIGTERM');
        expect(await exited).toBe(0);

        const pid = String(daemon.pid);
        const records = await waitFor(
          (r) => r.some((e) => e.IMGBASED_EVENT === 'stopped'),
          'SYSLOG_IDENTIFIER=imgbased',
          `SYSLOG_PID=${pid}`,
        );
        const events = records.map((r) => r.IMGBASED_EVENT);
        expect(events[0]).toBe('serving');
        expect(events.slice(-2)).toEqual(['stopping', 'stopped']);
        expect(events.indexOf('job-started')).toBeGreaterThan(0);
        expect(events.indexOf('job-failed')).toBeGreaterThan(events.indexOf('job-started'));
        const request = records.find((r) => r.IMGBASED_EVENT === 'request' && r.IMGBASED_URL === '/v1/boot/default');
        expect(request).toMatchObject({
          PRIORITY: '7',
          IMGBASED_VERB: 'boot --get-default',
          IMGBASED_METHOD: 'GET',
          IMGBASED_STATUS: String(bootDefault.status),
          _TRANSPORT: 'journal',
        });
        const started = records.find((r) => r.IMGBASED_EVENT === 'job-started');
        expect(started).toMatchObject({ IMGBASED_JOB_ID: id, IMGBASED_VERB: 'layer --add', IMGBASED_DRY_RUN: 'true' });
        const failed = records.find((r) => r.IMGBASED_EVENT === 'job-failed');
        expect(failed).toMatchObject({ IMGBASED_JOB_ID: id, IMGBASED_ERROR_CODE: code, PRIORITY: '4' });
        // Nothing came as JSON lines on the stream: every entry was sent natively.
        expect(await journal('SYSLOG_IDENTIFIER=imgbased-stream')).toEqual([]);
        expect(records.every((r) => r._TRANSPORT === 'journal')).toBe(true);
        // Each entry names the daemon's unit through OBJECT_PID, the last ones too (the daemon asked
        // journald to handle them before it exited), whether or not journald still found the
        // short-lived logger's own; so `journalctl -u` finds all of them.
        for (const r of records) expect([r.IMGBASED_EVENT, r.OBJECT_SYSTEMD_UNIT]).toEqual([r.IMGBASED_EVENT, unit]);
        const byUnit = await journal('-u', unit);
        expect(byUnit.filter((r) => r.SYSLOG_IDENTIFIER === 'imgbased').map((r) => r.__CURSOR)).toEqual(
          records.map((r) => r.__CURSOR),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
        await rmdir(cgroup).catch(() => undefined);
      }
    });
  },
);
