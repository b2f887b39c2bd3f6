import type { EngineEvent } from '@imgbased/core';

/**
 * The status line `imgbase` keeps on a terminal while a verb runs: the current step, and for long ones
 * (a download, a checksum, a copy) how far it is. It is one line rewritten in place on stderr, gone
 * when the verb ends, so nothing of it is left in a scrollback or a log. No colour is used.
 */
export interface StatusLine {
  /** Shows what an event says, if it is a step or progress event; other events are ignored. */
  update(event: EngineEvent): void;
  /** Takes the line away, before other text is written to the same terminal and at the end. */
  clear(): void;
}

export interface StatusLineOptions {
  /** Width of the terminal: the line is cut to fit, as a wrapped line could not be rewritten. */
  readonly columns?: number | undefined;
  /** Milliseconds; progress is redrawn at most every 100 ms. */
  readonly now?: () => number;
}

const REDRAW_MS = 100;
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1536 → "1.5 KiB": binary units, one decimal below 10 of a unit. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** 75 → "1 min 15 s", 9 → "9 s", 7300 → "2 h 2 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const minutes = Math.round((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
}

/** "download: 42% (12 MiB of 28 MiB, 3.1 MiB/s, 6 s left)", or without a total "download: 12 MiB". */
export function describeProgress(event: Extract<EngineEvent, { type: 'progress' }>): string {
  const rate = event.bytesPerSecond ? `${formatBytes(event.bytesPerSecond)}/s` : undefined;
  if (event.total !== undefined && event.total > 0) {
    const percent = Math.min(100, Math.floor((event.bytes / event.total) * 100));
    const left =
      event.bytesPerSecond && event.bytes < event.total
        ? `${formatDuration((event.total - event.bytes) / event.bytesPerSecond)} left`
        : undefined;
    const detail = [`${formatBytes(event.bytes)} of ${formatBytes(event.total)}`, rate, left]
      .filter(Boolean)
      .join(', ');
    return `${event.step}: ${percent}% (${detail})`;
  }
  return `${event.step}: ${formatBytes(event.bytes)}${rate ? ` (${rate})` : ''}`;
}

/** A status line drawn with a carriage return and "erase to the end of the line" (ECMA-48 EL). */
export function terminalStatusLine(write: (text: string) => void, options: StatusLineOptions = {}): StatusLine {
  const now = options.now ?? Date.now;
  const width = Math.max(20, (options.columns ?? 80) - 1);
  let shown = false;
  let lastDraw = Number.NEGATIVE_INFINITY;
  const draw = (text: string) => {
    const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    write(`\r\x1b[K${line}`);
    shown = true;
    lastDraw = now();
  };
  return {
    update(event) {
      if (event.type === 'step') draw(event.message);
      else if (event.type === 'progress') {
        const finished = event.total !== undefined && event.bytes >= event.total;
        if (finished || now() - lastDraw >= REDRAW_MS) draw(describeProgress(event));
      }
    },
    clear() {
      if (!shown) return;
      write('\r\x1b[K');
      shown = false;
    },
  };
}
