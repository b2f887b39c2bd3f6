import type { EngineEvent } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { ProgressReporter, withSampledProgress } from './progress.js';

function recorder() {
  const events: EngineEvent[] = [];
  return { events, context: { report: (event: EngineEvent) => events.push(event) } };
}

describe('ProgressReporter', () => {
  it('emits at most once per interval, with the rate of this run only, and always the last', () => {
    const { events, context } = recorder();
    let clock = 0;
    const reporter = new ProgressReporter(context, 'download', 1000, 200, 500, () => clock);
    clock = 100;
    reporter.update(300); // first update: emitted
    clock = 400;
    reporter.update(400); // within 500 ms of the last: dropped
    clock = 1000;
    reporter.update(700);
    clock = 2000;
    reporter.finish(1000);
    expect(events).toEqual([
      { type: 'progress', step: 'download', bytes: 300, total: 1000, bytesPerSecond: 1000 },
      { type: 'progress', step: 'download', bytes: 700, total: 1000, bytesPerSecond: 500 },
      { type: 'progress', step: 'download', bytes: 1000, total: 1000, bytesPerSecond: 400 },
    ]);
  });

  it('leaves total out when unknown', () => {
    const { events, context } = recorder();
    let clock = 0;
    const reporter = new ProgressReporter(context, 'install', undefined, 0, 500, () => clock);
    clock = 1000;
    reporter.finish(10);
    expect(events).toEqual([{ type: 'progress', step: 'install', bytes: 10, bytesPerSecond: 10 }]);
  });
});

describe('withSampledProgress', () => {
  it('samples while the work runs and reports the final sample', async () => {
    const { events, context } = recorder();
    let done = 0;
    const value = await withSampledProgress(
      new ProgressReporter(context, 'install', 100, 0, 0),
      async () => done,
      async () => {
        for (let i = 1; i <= 5; i++) {
          done = i * 20;
          await new Promise((resolve) => setTimeout(resolve, 15));
        }
        return 'ok';
      },
      5,
    );
    expect(value).toBe('ok');
    const bytes = events.map((e) => (e.type === 'progress' ? e.bytes : -1));
    expect(bytes.length).toBeGreaterThan(2);
    expect(bytes.at(-1)).toBe(100);
    expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);
  });

  it('keeps working when sampling fails, and passes the work’s failure on', async () => {
    const { events, context } = recorder();
    await expect(
      withSampledProgress(
        new ProgressReporter(context, 'install', 1),
        () => Promise.reject(new Error('no counter')),
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          throw new Error('copy failed');
        },
        5,
      ),
    ).rejects.toThrow('copy failed');
    expect(events).toEqual([]);
  });
});
