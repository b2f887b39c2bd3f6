import { emit, type OperationContext } from '@imgbased/core';

/** Emits `progress` events for one step, at most one per interval, with the average rate since it began. */
export class ProgressReporter {
  private lastEmitted = Number.NEGATIVE_INFINITY;
  private readonly started: number;

  constructor(
    private readonly context: OperationContext | undefined,
    private readonly step: string,
    private readonly total: number | undefined,
    /** Bytes done before this run began (a resumed download): not counted in the rate. */
    private readonly startBytes = 0,
    private readonly intervalMs = 500,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = this.now();
  }

  update(bytes: number): void {
    const now = this.now();
    if (now - this.lastEmitted < this.intervalMs) return;
    this.lastEmitted = now;
    this.send(bytes, now);
  }

  /** The last event, whatever the interval. */
  finish(bytes: number): void {
    this.send(bytes, this.now());
  }

  private send(bytes: number, now: number): void {
    const seconds = (now - this.started) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.round((bytes - this.startBytes) / seconds) : undefined;
    emit(this.context, {
      type: 'progress',
      step: this.step,
      bytes,
      ...(this.total === undefined ? {} : { total: this.total }),
      ...(bytesPerSecond === undefined ? {} : { bytesPerSecond }),
    });
  }
}

/**
 * Samples `bytesDone` every interval and reports it, while `work` runs; a last event with the final
 * sample when it succeeds. For copies whose tool reports nothing itself: the bytes are measured on the
 * target (device counters, file system usage). A failing sample stops the sampling, not the work.
 */
export async function withSampledProgress<T>(
  reporter: ProgressReporter,
  bytesDone: () => Promise<number>,
  work: () => Promise<T>,
  intervalMs = 1000,
): Promise<T> {
  let sampling = false;
  let broken = false;
  const timer = setInterval(() => {
    if (sampling || broken) return;
    sampling = true;
    bytesDone()
      .then((bytes) => reporter.update(bytes))
      .catch(() => {
        broken = true;
      })
      .finally(() => {
        sampling = false;
      });
  }, intervalMs);
  timer.unref();
  try {
    const value = await work();
    if (!broken) reporter.finish(await bytesDone().catch(() => 0));
    return value;
  } finally {
    clearInterval(timer);
  }
}
