interface Flight {
  readonly running: Promise<unknown>;
  /** False while the read waits out its gathering delay: until it starts, new callers may join it. */
  started: boolean;
  queued?: Promise<unknown>;
}

/**
 * Batches identical reads. Every read runs `lvs` (and maybe `findmnt`), which costs far more than
 * serving HTTP; 100 clients asking for the layout at once should not start 100 `lvs`. A read that
 * arrives while the same read is running does not join it (that one may have read LVM before this
 * request arrived); it joins the one batch queued behind it, which starts when the running one ends.
 * So every answer still reflects LVM as read after its request arrived, and at most two reads of a
 * kind run or wait at any time. With `gatherMs`, a read that nothing else runs beside waits that long
 * before it starts, and callers arriving meanwhile join it: a burst of requests shares one read
 * instead of two (the rule holds: the read starts after each of them arrived).
 */
export class ReadBatcher {
  private readonly flights = new Map<string, Flight>();

  constructor(private readonly gatherMs = 0) {}

  run<T>(key: string, read: () => Promise<T>): Promise<T> {
    const flight = this.flights.get(key);
    if (!flight) return this.launch(key, read, this.gatherMs);
    if (!flight.started) return flight.running as Promise<T>;
    flight.queued ??= flight.running.then(ignore, ignore).then(() => this.launch(key, read, 0));
    return flight.queued as Promise<T>;
  }

  private launch<T>(key: string, read: () => Promise<T>, delayMs: number): Promise<T> {
    const flight: Flight = { running: undefined as unknown as Promise<unknown>, started: delayMs <= 0 };
    const start = () => {
      flight.started = true;
      return read();
    };
    const running = delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(start) : run(start);
    (flight as { running: Promise<unknown> }).running = running;
    this.flights.set(key, flight);
    running.then(ignore, ignore).then(() => {
      // A queued batch launches itself (and takes this key over); otherwise the key is free again.
      if (!flight.queued && this.flights.get(key) === flight) this.flights.delete(key);
    });
    return running;
  }
}

/** Calls `read` now; a synchronous throw becomes a rejected promise, as for every other failure. */
function run<T>(read: () => Promise<T>): Promise<T> {
  return (async () => read())();
}

function ignore(): void {}
