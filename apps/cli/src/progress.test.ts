import { describe, expect, it } from 'vitest';
import { describeProgress, formatDuration } from './progress.js';

describe('progress on a terminal', () => {
  it('says bytes, share, rate and time left of a copy', () => {
    expect(
      describeProgress({
        type: 'progress',
        step: 'install',
        bytes: 256 * 2 ** 20,
        total: 1024 * 2 ** 20,
        bytesPerSecond: 16 * 2 ** 20,
      }),
    ).toBe('install: 25% (256 MiB of 1.0 GiB, 16 MiB/s, 48 s left)');
    expect(
      describeProgress({ type: 'progress', step: 'install', bytes: 2 ** 30, total: 2 ** 30, bytesPerSecond: 2 ** 20 }),
    ).toBe('install: 100% (1.0 GiB of 1.0 GiB, 1.0 MiB/s)');
    expect(describeProgress({ type: 'progress', step: 'download', bytes: 2048, total: 4096 })).toBe(
      'download: 50% (2.0 KiB of 4.0 KiB)',
    );
  });

  it('formats time left in seconds, minutes and hours', () => {
    expect([0.2, 9, 60, 75, 3600, 7300].map(formatDuration)).toEqual([
      '1 s',
      '9 s',
      '1 min',
      '1 min 15 s',
      '1 h',
      '2 h 2 min',
    ]);
  });
});
