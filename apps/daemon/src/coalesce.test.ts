import { describe, expect, it } from 'vitest';
import { ReadBatcher } from './coalesce.js';

describe('ReadBatcher', () => {
  it('answers reads that arrive while one runs with one read that starts after it', async () => {
    const batcher = new ReadBatcher();
    const starts: number[] = [];
    let release: (() => void)[] = [];
    let reads = 0;
    const read = () => {
      const n = ++reads;
      starts.push(n);
      return new Promise<number>((resolve) => release.push(() => resolve(n)));
    };
    const first = batcher.run('layout', read);
    const waiting = Array.from({ length: 50 }, () => batcher.run('layout', read));
    const other = batcher.run('bases', read);
    expect(starts).toEqual([1, 2]); // layout and bases run; the 50 wait for the next layout read
    const [r1, r2] = release;
    release = [];
    r1!();
    expect(await first).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(starts).toEqual([1, 2, 3]);
    release[0]!();
    expect(new Set(await Promise.all(waiting))).toEqual(new Set([3]));
    r2!();
    expect(await other).toBe(2);
    // Nothing in flight: the next read starts at once.
    const again = batcher.run('layout', read);
    expect(starts).toEqual([1, 2, 3, 4]);
    release.at(-1)!();
    expect(await again).toBe(4);
  });

  it('gives a failure to every reader of the batch', async () => {
    const batcher = new ReadBatcher();
    const failing = () => Promise.reject(new Error('lvs failed'));
    await expect(Promise.all([batcher.run('k', failing), batcher.run('k', failing)])).rejects.toThrow('lvs failed');
    expect(await batcher.run('k', async () => 'fine')).toBe('fine');
  });
});
