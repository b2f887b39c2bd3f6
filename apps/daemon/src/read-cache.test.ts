import { describe, expect, it } from 'vitest';
import { ChangeCounter } from './changes.js';
import { ReadCache } from './read-cache.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A cache over a fake LVM state the test sets, counting the probes and the reads. */
function setUp(clock = { now: 0 }) {
  const changes = new ChangeCounter();
  const lvm = { state: 'onn|7|pool00|25.00|5.00', probes: 0, fail: false };
  const cache = new ReadCache({
    changes,
    maxAgeMs: 2000,
    now: () => clock.now,
    hostState: async () => {
      lvm.probes++;
      const state = lvm.state; // LVM is read when the probe starts; the answer comes a moment later
      await tick();
      if (lvm.fail) throw new Error('lvm is gone');
      return state;
    },
  });
  let reads = 0;
  const read = async () => {
    reads++;
    await tick();
    return `layout #${reads}`;
  };
  return { cache, changes, lvm, read, reads: () => reads };
}

describe('ReadCache', () => {
  it('reads once while nothing changes, again after a change in the daemon or in LVM', async () => {
    const s = setUp();
    expect(await s.cache.read('layout', s.read)).toBe('layout #1');
    expect(await s.cache.read('layout', s.read)).toBe('layout #1');
    expect(s.lvm.probes).toBe(2); // every call asks LVM, none but the first reads
    s.changes.bump();
    expect(await s.cache.read('layout', s.read)).toBe('layout #2');
    s.lvm.state = 'onn|8|pool00|25.00|5.00'; // lvcreate by hand: the seqno moved
    expect(await s.cache.read('layout', s.read)).toBe('layout #3');
    s.lvm.state = 'onn|8|pool00|25.01|5.00'; // a write filled the pool a little
    expect(await s.cache.read('layout', s.read)).toBe('layout #4');
    expect(await s.cache.read('layout', s.read)).toBe('layout #4');
  });

  it('keeps an answer no longer than its maximum age', async () => {
    const clock = { now: 0 };
    const s = setUp(clock);
    expect(await s.cache.read('layout', s.read)).toBe('layout #1');
    clock.now = 2000;
    expect(await s.cache.read('layout', s.read)).toBe('layout #1');
    clock.now = 2001;
    expect(await s.cache.read('layout', s.read)).toBe('layout #2');
  });

  it('gives concurrent callers one read', async () => {
    const s = setUp();
    const answers = await Promise.all(Array.from({ length: 100 }, () => s.cache.read('layout', s.read)));
    expect(new Set(answers)).toEqual(new Set(['layout #1']));
    expect(s.reads()).toBe(1);
    expect(s.lvm.probes).toBeLessThanOrEqual(2);
  });

  it('keeps no failure: the next call reads again', async () => {
    const s = setUp();
    let fail = true;
    const flaky = async () => {
      if (fail) throw new Error('lvs failed');
      return 'fine';
    };
    await expect(Promise.all([s.cache.read('k', flaky), s.cache.read('k', flaky)])).rejects.toThrow('lvs failed');
    fail = false;
    expect(await s.cache.read('k', flaky)).toBe('fine');
  });

  it('reads uncached when LVM cannot be asked', async () => {
    const s = setUp();
    s.lvm.fail = true;
    expect(await s.cache.read('layout', s.read)).toBe('layout #1');
    expect(await s.cache.read('layout', s.read)).toBe('layout #2');
  });

  it('does not keep a read under a stamp taken after a change it may have missed', async () => {
    const s = setUp();
    let release!: () => void;
    const slow = () =>
      new Promise<string>((resolve) => {
        release = () => resolve('before the change');
      });
    const first = s.cache.read('layout', slow);
    while (!release) await tick();
    s.changes.bump(); // a job ends while the read runs
    release();
    expect(await first).toBe('before the change');
    expect(await s.cache.read('layout', s.read)).toBe('layout #1');
  });

  it('never answers from a probe that started before the call arrived', async () => {
    const s = setUp();
    await s.cache.read('layout', s.read);
    const probing = s.cache.read('layout', s.read); // its probe starts now
    s.lvm.state = 'onn|9|pool00|25.00|5.00'; // a change ends while that probe runs
    const late = s.cache.read('layout', s.read); // arrived after the change: must see it
    expect(await probing).toBe('layout #1');
    expect(await late).toBe('layout #2');
  });
});
