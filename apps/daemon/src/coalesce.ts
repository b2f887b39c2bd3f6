/**
 * Batches identical reads. Every read runs `lvs` (and maybe `findmnt`), which costs far more than
 * serving HTTP; 100 clients asking for the layout at once should not start 100 `lvs`. A read that
 * arrives while the same read is running does not join it (that one may have read LVM before this
 * request arrived); it joins the one batch queued behind it, which starts when the running one ends.
 * So every answer still reflects LVM as read after its request arrived, and at most two reads of a
 * kind run or wait at any time.
 */
export class ReadBatcher {
  private readonly flights = new Map<string, { running: Promise<unknown>; queued?: Promise<unknown> }>();

  run<T>(key: string, read: () => Promise<T>): Promise<T> {
    const flight = this.flights.get(key);
    if (!flight) return this.launch(key, read);
    flight.queued ??= flight.running.then(ignore, ignore).then(() => this.launch(key, read));
    return flight.queued as Promise<T>;
  }

  private launch<T>(key: string, read: () => Promise<T>): Promise<T> {
    const running = (async () => read())();
    const flight: { running: Promise<unknown>; queued?: Promise<unknown> } = { running };
    this.flights.set(key, flight);
    running.then(ignore, ignore).then(() => {
      // A queued batch launches itself (and takes this key over); otherwise the key is free again.
      if (!flight.queued && this.flights.get(key) === flight) this.flights.delete(key);
    });
    return running;
  }
}

function ignore(): void {}
