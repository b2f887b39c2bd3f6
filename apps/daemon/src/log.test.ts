import { closeSync, fstatSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CommandFailedError,
  CommandNotFoundError,
  type CommandResult,
  type CommandRunner,
  type CommandSpec,
} from '@imgbased/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLogger,
  daemonLogger,
  JournalSink,
  journalEntry,
  journalFieldName,
  jsonLine,
  type LogEntry,
  stderrIsJournal,
  stderrSink,
} from './log.js';

/** A runner that records what it is given and answers when the test says so. */
class FakeRunner implements CommandRunner {
  readonly calls: CommandSpec[] = [];
  gate: Promise<void> | undefined;
  fail: Error | undefined;
  async run(spec: CommandSpec): Promise<CommandResult> {
    this.calls.push(spec);
    await this.gate;
    if (this.fail) throw this.fail;
    return { argv: spec.argv, exitCode: 0, stdout: '', stderr: '', durationMs: 0, planned: false };
  }
  /** The entries sent, as field → value maps (MESSAGE lines joined as logger joins them). */
  get sent(): Record<string, string>[] {
    return this.calls.filter((c) => c.argv[0] === 'logger').map((c) => parseEntry(String(c.input)));
  }
}

function parseEntry(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const at = line.indexOf('=');
    const [name, value] = [line.slice(0, at), line.slice(at + 1)];
    fields[name] = name === 'MESSAGE' && name in fields ? `${fields[name]}\n${value}` : value;
  }
  return fields;
}

const entry = (message: string, fields: LogEntry['fields'] = {}, level: LogEntry['level'] = 'info'): LogEntry => ({
  level,
  time: '2026-01-01T00:00:00.000Z',
  message,
  fields,
});

describe('journal entries', () => {
  it('carry MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the fields under the names journalctl is asked for', () => {
    const text = journalEntry(
      entry(
        'job 0123456789abcdef failed: layer --add',
        {
          event: 'job-failed',
          jobId: '0123456789abcdef',
          verb: 'layer --add',
          error: { code: 'E_LOCKED', message: 'locked' },
          args: { from: 'Base-1-0' },
          dryRun: false,
          state: 'failed',
          skipped: undefined,
        },
        'warn',
      ),
      4242,
    );
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('\n\n'); // an empty line would end logger's entry
    expect(parseEntry(text)).toEqual({
      MESSAGE: 'job 0123456789abcdef failed: layer --add',
      PRIORITY: '4',
      SYSLOG_IDENTIFIER: 'imgbased',
      SYSLOG_PID: '4242',
      OBJECT_PID: '4242',
      IMGBASED_EVENT: 'job-failed',
      IMGBASED_JOB_ID: '0123456789abcdef',
      IMGBASED_VERB: 'layer --add',
      IMGBASED_ERROR: '{"code":"E_LOCKED","message":"locked"}',
      IMGBASED_ERROR_CODE: 'E_LOCKED',
      IMGBASED_ARGS: '{"from":"Base-1-0"}',
      IMGBASED_DRY_RUN: 'false',
      IMGBASED_STATE: 'failed',
    });
  });

  it('keep one field per line: a multi-line message is several MESSAGE lines, other newlines are escaped', () => {
    const text = journalEntry(entry('first\n\nthird', { note: 'a\nb', errorCode: 'E_X' }, 'error'), 1);
    expect(text.split('\n').slice(0, 3)).toEqual(['MESSAGE=first', 'MESSAGE=', 'MESSAGE=third']);
    expect(parseEntry(text)).toMatchObject({
      MESSAGE: 'first\n\nthird',
      PRIORITY: '3',
      IMGBASED_NOTE: 'a\\nb',
      IMGBASED_ERROR_CODE: 'E_X',
    });
  });

  it('sanitise field names to the journal’s rules', () => {
    expect(journalFieldName('jobId')).toBe('IMGBASED_JOB_ID');
    expect(journalFieldName('errorCode')).toBe('IMGBASED_ERROR_CODE');
    expect(journalFieldName('runningJobs')).toBe('IMGBASED_RUNNING_JOBS');
    expect(journalFieldName('_private')).toBe('IMGBASED__PRIVATE');
    expect(journalFieldName('weird-key.ä 1')).toBe('IMGBASED_WEIRD_KEY___1');
    const long = journalFieldName('x'.repeat(100));
    expect(long).toHaveLength(64);
    for (const name of [long, journalFieldName('9lives'), journalFieldName('Ünïcode')]) {
      expect(name).toMatch(/^[A-Z][A-Z0-9_]{0,63}$/);
    }
  });
});

describe('the journal sink', () => {
  it('sends each entry through logger --journald, in order, without making the caller wait', async () => {
    const runner = new FakeRunner();
    let release!: () => void;
    runner.gate = new Promise((resolve) => (release = resolve));
    const fallback: string[] = [];
    const log = createLogger(new JournalSink(runner, stderrSink({ write: (l) => fallback.push(l) }), { pid: 7 }), {
      debug: true,
    });
    log.info('one', { event: 'serving' });
    log.debug('two', { event: 'request', verb: 'layout' });
    log.error('three', { event: 'fatal' });
    // The first is on its way (and hangs); the others wait their turn.
    expect(runner.calls).toHaveLength(1);
    release();
    await log.flush();
    // Then journald is asked to have handled them (while the daemon, their OBJECT_PID, still runs).
    expect(runner.calls.map((c) => [c.argv, c.mutates])).toEqual([
      [['logger', '--journald'], false],
      [['logger', '--journald'], false],
      [['logger', '--journald'], false],
      [['journalctl', '--sync'], false],
    ]);
    await log.flush();
    expect(runner.calls).toHaveLength(4); // nothing new sent: no second sync
    expect(runner.sent.map((f) => [f.MESSAGE, f.PRIORITY, f.IMGBASED_EVENT, f.SYSLOG_PID])).toEqual([
      ['one', '6', 'serving', '7'],
      ['two', '7', 'request', '7'],
      ['three', '3', 'fatal', '7'],
    ]);
    expect(fallback).toEqual([]);
  });

  it('drops what does not fit in its queue, counts it, and says so in the journal in its place', async () => {
    const runner = new FakeRunner();
    let release!: () => void;
    runner.gate = new Promise((resolve) => (release = resolve));
    const sink = new JournalSink(runner, stderrSink({ write: () => undefined }), { limit: 3 });
    for (let i = 1; i <= 6; i++) sink.write(entry(`e${i}`));
    expect(sink.dropped).toBe(2); // e1 is being sent, e2–e4 wait, e5 and e6 do not fit
    release();
    await sink.flush();
    sink.write(entry('e7'));
    await sink.flush();
    expect(runner.sent.map((f) => f.MESSAGE)).toEqual([
      'e1',
      'e2',
      'e3',
      'e4',
      '2 log entries were dropped: the journal did not keep up',
      'e7',
    ]);
    expect(runner.sent[4]).toMatchObject({ PRIORITY: '4', IMGBASED_EVENT: 'log-dropped', IMGBASED_DROPPED: '2' });
  });

  it('writes the stderr line instead when logger fails, and stops trying when logger is not installed', async () => {
    const runner = new FakeRunner();
    const lines: string[] = [];
    const sink = new JournalSink(runner, stderrSink({ write: (l) => lines.push(l), levelPrefix: true }));
    runner.fail = new CommandFailedError(['logger', '--journald'], 1, 'logger: socket: Permission denied');
    sink.write(entry('a', { event: 'job-started' }));
    sink.write(entry('b'));
    await sink.flush();
    expect(runner.calls).toHaveLength(2);
    const parsed = lines.map((l) => {
      expect(l).toMatch(/^<\d>\{.*\}\n$/);
      return JSON.parse(l.slice(3)) as { msg: string; event?: string; level: string };
    });
    expect(parsed.map((p) => [p.level, p.msg, p.event])).toEqual([
      ['warn', 'logger --journald failed: this entry is logged to stderr instead', 'log-fallback'],
      ['info', 'a', 'job-started'],
      ['info', 'b', undefined],
    ]);

    runner.fail = new CommandNotFoundError('logger');
    lines.length = 0;
    sink.write(entry('c'));
    sink.write(entry('d'));
    await sink.flush();
    expect(runner.calls).toHaveLength(3);
    expect(lines.map((l) => JSON.parse(l.slice(3)).msg)).toEqual([
      'logger is not installed: logging JSON lines to stderr instead of journal entries',
      'c',
      'd',
    ]);
  });
});

describe('stderr lines', () => {
  it('are one JSON object each, with the sd-daemon priority prefix only for the journal’s stream', () => {
    const e = entry('serving /run/imgbased/imgbased.sock', { event: 'serving', socket: '/x' }, 'warn');
    expect(jsonLine(e, false)).toBe(
      '{"level":"warn","time":"2026-01-01T00:00:00.000Z","msg":"serving /run/imgbased/imgbased.sock","event":"serving","socket":"/x"}\n',
    );
    expect(jsonLine(e, true).startsWith('<4>{"level":"warn"')).toBe(true);
    const lines: string[] = [];
    const log = createLogger(stderrSink({ write: (l) => lines.push(l) }));
    log.debug('not shown without --debug');
    log.info('shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });
});

describe('whether stderr is the journal', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('compares JOURNAL_STREAM with the device and inode of stderr, as sd_journal_stream_fd(3) says', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'imgbased-log-'));
    const fd = openSync(path.join(dir, 'stderr'), 'w');
    try {
      const stat = fstatSync(fd, { bigint: true });
      expect(stderrIsJournal({ JOURNAL_STREAM: `${stat.dev}:${stat.ino}` }, fd)).toBe(true);
      expect(stderrIsJournal({ JOURNAL_STREAM: `${stat.dev}:${stat.ino + 1n}` }, fd)).toBe(false);
      expect(stderrIsJournal({}, fd)).toBe(false);
      // Inherited by a process whose stderr went elsewhere: not the journal.
      expect(daemonLogger(new FakeRunner(), { env: { JOURNAL_STREAM: '8:12345' } }).journal).toBe(false);
    } finally {
      closeSync(fd);
    }
  });
});
