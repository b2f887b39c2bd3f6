import type { ChangeCounter } from './changes.js';
import { ReadBatcher } from './coalesce.js';

export interface ReadCacheOptions {
  /** Changes made through this daemon (its engine's lock, every job's end). */
  readonly changes: ChangeCounter;
  /** The host's state (see `hostState`): changes made outside the daemon, by hand or by `imgbase`. */
  readonly hostState: () => Promise<string>;
  /** Answers kept at most (one per route and name); all are dropped when more would be. */
  readonly maxEntries?: number;
  /**
   * How long an answer is kept at most, for what neither stamp sees: boot counting done by the boot
   * manager or systemd-bless-boot, files edited by hand.
   */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

interface Kept {
  readonly stamp: string;
  readonly value: unknown;
  /** When the read that made it started. */
  readonly at: number;
}

/**
 * Answers reads from what was read before, as long as nothing changed. Each call first takes a stamp:
 * the daemon's change count and the host's state (one cheap `lvs` of the pools, two file system
 * calls), from a probe that starts
 * after the call arrived (probes are batched: a burst of callers shares one or two). An answer kept
 * under the same stamp is returned; otherwise the read runs, once for all callers with that stamp, and
 * its answer is kept under the stamp taken before it started (a change during the read shows as a
 * new stamp, so that answer is not used again). Failures are never kept. If the probe itself fails,
 * the read runs uncached.
 */
export class ReadCache {
  private readonly probes: ReadBatcher;
  private readonly kept = new Map<string, Kept>();
  private readonly flights = new Map<string, { readonly stamp: string; readonly value: Promise<unknown> }>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ReadCacheOptions) {
    this.probes = new ReadBatcher();
    this.maxEntries = options.maxEntries ?? 256;
    this.maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.now = options.now ?? Date.now;
  }

  async read<T>(key: string, read: () => Promise<T>): Promise<T> {
    let stamp: string;
    try {
      stamp = await this.probes.run('stamp', () => this.stamp());
    } catch {
      return read();
    }
    const kept = this.kept.get(key);
    if (kept?.stamp === stamp && this.now() - kept.at <= this.maxAgeMs) return kept.value as T;
    const flight = this.flights.get(key);
    if (flight?.stamp === stamp) return flight.value as Promise<T>;
    const at = this.now();
    const value = (async () => read())();
    const mine = { stamp, value };
    this.flights.set(key, mine);
    try {
      const result = await value;
      this.keep(key, { stamp, value: result, at });
      return result;
    } finally {
      if (this.flights.get(key) === mine) this.flights.delete(key);
    }
  }

  private keep(key: string, entry: Kept): void {
    // Answers under an older stamp can never be used again; dropping them bounds the map too.
    for (const [other, kept] of this.kept) if (kept.stamp !== entry.stamp) this.kept.delete(other);
    if (this.kept.size >= this.maxEntries) this.kept.clear();
    this.kept.set(key, entry);
  }

  private async stamp(): Promise<string> {
    // The count is read before LVM is: a change that ends while LVM is asked shows on the next call.
    const changes = this.options.changes.value;
    return `${changes}\n${await this.options.hostState()}`;
  }
}
