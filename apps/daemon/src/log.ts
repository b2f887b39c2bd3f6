/**
 * The daemon's log: one JSON object per line on stderr. Under systemd (JOURNAL_STREAM is set when
 * stderr is the journal) each line starts with the sd-daemon(3) priority prefix `<N>`, which journald
 * turns into the entry's PRIORITY; SYSLOG_IDENTIFIER comes from the unit. The JSON body keeps the
 * fields machine-readable (`journalctl -u imgbased -o cat | jq`). No native journal binding is needed.
 */
export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

const PRIORITY = { error: 3, warn: 4, info: 6, debug: 7 } as const;

export function journalLogger(
  options: { write?: (line: string) => void; journal?: boolean; debug?: boolean } = {},
): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const journal = options.journal ?? Boolean(process.env.JOURNAL_STREAM);
  const line =
    (level: keyof typeof PRIORITY) =>
    (message: string, fields: Record<string, unknown> = {}): void => {
      if (level === 'debug' && !options.debug) return;
      const body = JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields });
      write(`${journal ? `<${PRIORITY[level]}>` : ''}${body}\n`);
    };
  return { error: line('error'), warn: line('warn'), info: line('info'), debug: line('debug') };
}
