import { fstatSync, statSync } from 'node:fs';
import { CommandNotFoundError, type CommandRunner, toImgbasedError } from '@imgbased/core';

/**
 * The daemon's log. Under systemd with the journal available, each entry goes to the journal in its
 * structured form (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=imgbased and IMGBASED_* fields, so that
 * `journalctl IMGBASED_JOB_ID=…` or `-o json` finds them) through `logger --journald`: Node cannot send
 * the journal's native datagram without a native addon, and util-linux's logger sends one native entry
 * made of the FIELD=value lines it reads on stdin. Elsewhere, and whenever logger fails: one JSON object
 * per line on stderr, with the sd-daemon(3) `<N>` priority prefix when stderr is the journal's stream.
 */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** Resolves once every entry logged so far has been written (before the process exits). */
  flush(): Promise<void>;
}

/**
 * Fields of an entry. Named ones become the journal fields other tools read back: `event` →
 * IMGBASED_EVENT (request, job-started, job-finished, job-failed, …), `jobId` → IMGBASED_JOB_ID,
 * `verb` → IMGBASED_VERB, `errorCode` (or the `code` of an `error` object) → IMGBASED_ERROR_CODE;
 * any other key → IMGBASED_ + its name in upper snake case.
 */
export type LogFields = Record<string, unknown> & {
  readonly event?: string;
  readonly jobId?: string;
  readonly verb?: string;
  readonly errorCode?: string;
};

export type Level = 'error' | 'warn' | 'info' | 'debug';

export interface LogEntry {
  readonly level: Level;
  readonly time: string;
  readonly message: string;
  readonly fields: LogFields;
}

/** Where entries go. Must not block: the journal sink queues. */
export interface LogSink {
  write(entry: LogEntry): void;
  flush?(): Promise<void>;
}

/** syslog(3) priorities, as the journal's PRIORITY and the `<N>` prefix carry them. */
export const PRIORITY = { error: 3, warn: 4, info: 6, debug: 7 } as const;

export const SYSLOG_IDENTIFIER = 'imgbased';
export const JOURNAL_SOCKET = '/run/systemd/journal/socket';

export function createLogger(sink: LogSink, options: { debug?: boolean } = {}): Logger {
  const at =
    (level: Level) =>
    (message: string, fields: LogFields = {}): void => {
      if (level === 'debug' && !options.debug) return;
      sink.write({ level, time: new Date().toISOString(), message, fields });
    };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    flush: async () => sink.flush?.(),
  };
}

/** The JSON line of an entry: `{level, time, msg, …fields}`, `<N>`-prefixed for the journal's stream. */
export function jsonLine(entry: LogEntry, levelPrefix: boolean): string {
  const body = JSON.stringify({ level: entry.level, time: entry.time, msg: entry.message, ...entry.fields });
  return `${levelPrefix ? `<${PRIORITY[entry.level]}>` : ''}${body}\n`;
}

/** JSON lines on stderr (or `write`). */
export function stderrSink(
  options: { write?: (line: string) => void; levelPrefix?: boolean } = {},
): LogSink & { write(entry: LogEntry): void } {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const levelPrefix = options.levelPrefix ?? false;
  return { write: (entry) => write(jsonLine(entry, levelPrefix)) };
}

/** A logger of JSON lines (tests, and the daemon outside systemd). */
export function stderrLogger(
  options: { write?: (line: string) => void; levelPrefix?: boolean; debug?: boolean } = {},
): Logger {
  return createLogger(stderrSink(options), options);
}

/** journald's rule for field names: A-Z, 0-9 and `_`, not starting with `_` or a digit, at most 64 characters. */
export function journalFieldName(key: string): string {
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_');
  return `IMGBASED_${snake}`.slice(0, 64);
}

/** Longest value sent, in characters: a runaway field must not make a huge entry. */
const MAX_VALUE = 16 * 1024;

function fieldValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const capped = text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
  // logger reads one field per line: a newline inside a value would start a bogus field.
  return capped.replace(/\r?\n|\r/g, '\\n');
}

/**
 * The stdin of `logger --journald` for one entry: FIELD=value lines. A multi-line message is sent as
 * several MESSAGE= lines, which logger joins with newlines again; an empty line would end the entry
 * early, so none is sent.
 *
 * OBJECT_PID names the daemon: journald reads the sender's unit from /proc when the datagram is
 * handled, and logger has often exited by then (measured: 1 entry in 5 without _SYSTEMD_UNIT on a
 * loaded machine). For a root sender, journald adds OBJECT_SYSTEMD_UNIT etc. from OBJECT_PID, the
 * long-lived daemon, and `journalctl -u imgbased` matches root entries by OBJECT_SYSTEMD_UNIT too.
 */
export function journalEntry(entry: LogEntry, pid: number = process.pid): string {
  const lines = entry.message.split(/\r?\n/).map((line) => `MESSAGE=${line}`);
  lines.push(
    `PRIORITY=${PRIORITY[entry.level]}`,
    `SYSLOG_IDENTIFIER=${SYSLOG_IDENTIFIER}`,
    `SYSLOG_PID=${pid}`,
    `OBJECT_PID=${pid}`,
  );
  const fields: Record<string, unknown> = { ...entry.fields };
  const error = fields.error as { code?: unknown } | undefined;
  if (fields.errorCode === undefined && typeof error?.code === 'string') fields.errorCode = error.code;
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const name = journalFieldName(key);
    if (seen.has(name)) continue; // two keys that sanitise to one name: the first one wins
    seen.add(name);
    lines.push(`${name}=${fieldValue(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Queued entries before new ones are dropped (counted, and the count logged once there is room). */
export const JOURNAL_QUEUE_LIMIT = 1000;

interface Dropped {
  readonly dropped: true;
  count: number;
}

/**
 * Sends entries to the journal, one `logger --journald` each, through the CommandRunner: queued and
 * sent in order, one at a time, without making the caller wait. A bounded queue: beyond `limit`
 * entries waiting, new ones are dropped and counted, and an entry saying how many were lost takes
 * their place in the order. When logger fails, that entry goes to `fallback` (the stderr lines); when
 * logger is not installed, every later entry does.
 */
export class JournalSink implements LogSink {
  private readonly queue: (LogEntry | Dropped)[] = [];
  private draining: Promise<void> | undefined;
  private disabled = false;
  private warned = false;
  private unsynced = false;
  /** Entries dropped because the queue was full, since the start. */
  dropped = 0;

  constructor(
    private readonly runner: CommandRunner,
    private readonly fallback: LogSink,
    private readonly options: { readonly limit?: number; readonly pid?: number; readonly timeoutMs?: number } = {},
  ) {}

  write(entry: LogEntry): void {
    // At most limit + 1 waiting: the last one a count of what was dropped after them.
    if (this.queue.length >= (this.options.limit ?? JOURNAL_QUEUE_LIMIT)) {
      this.dropped++;
      const last = this.queue.at(-1);
      if (last && 'dropped' in last) last.count++;
      else this.queue.push({ dropped: true, count: 1 });
    } else {
      this.queue.push(entry);
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /**
   * Waits until every entry is sent, then until journald has handled them (`journalctl --sync`): at
   * exit, so that journald still finds the daemon behind OBJECT_PID for the last entries.
   */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    if (!this.unsynced) return;
    this.unsynced = false;
    await this.runner
      .run({ argv: ['journalctl', '--sync'], mutates: false, timeoutMs: this.options.timeoutMs ?? 10_000 })
      .catch(() => undefined); // needs root; without it the entries are still there, only maybe later
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      const entry: LogEntry =
        'dropped' in next
          ? {
              level: 'warn',
              time: new Date().toISOString(),
              message: `${next.count} log entries were dropped: the journal did not keep up`,
              fields: { event: 'log-dropped', dropped: next.count },
            }
          : next;
      await this.send(entry);
    }
  }

  private async send(entry: LogEntry): Promise<void> {
    if (this.disabled) return this.fallback.write(entry);
    try {
      await this.runner.run({
        argv: ['logger', '--journald'],
        mutates: false,
        input: journalEntry(entry, this.options.pid),
        timeoutMs: this.options.timeoutMs ?? 10_000,
      });
      this.unsynced = true;
    } catch (error) {
      if (error instanceof CommandNotFoundError) this.disabled = true;
      if (!this.warned || this.disabled) {
        this.warned = true;
        this.fallback.write({
          level: 'warn',
          time: new Date().toISOString(),
          message: this.disabled
            ? 'logger is not installed: logging JSON lines to stderr instead of journal entries'
            : 'logger --journald failed: this entry is logged to stderr instead',
          fields: { event: 'log-fallback', error: toImgbasedError(error).toJSON() },
        });
      }
      this.fallback.write(entry);
    }
  }
}

/**
 * True when stderr is the journal's stream: systemd sets JOURNAL_STREAM to the `device:inode` of the
 * stream it connected, and sd_journal_stream_fd(3) says to compare it with stderr's, since the variable
 * is inherited by processes whose stderr has been redirected elsewhere.
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv, stderrFd = 2): boolean {
  if (!env.JOURNAL_STREAM) return false;
  try {
    const stat = fstatSync(stderrFd, { bigint: true });
    return env.JOURNAL_STREAM === `${stat.dev}:${stat.ino}`;
  } catch {
    return false;
  }
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/**
 * The daemon's logger: journal entries when it runs under systemd with the journal available
 * (stderr is the journal's stream, and journald's native socket exists), else JSON lines on stderr.
 */
export function daemonLogger(
  runner: CommandRunner,
  options: { debug?: boolean; env?: NodeJS.ProcessEnv; journalSocket?: string } = {},
): { log: Logger; journal: boolean } {
  const underJournal = stderrIsJournal(options.env ?? process.env);
  const lines = stderrSink({ levelPrefix: underJournal });
  const journal = underJournal && isSocket(options.journalSocket ?? JOURNAL_SOCKET);
  const sink = journal ? new JournalSink(runner, lines) : lines;
  return { log: createLogger(sink, options), journal };
}
