import { ImageEngine } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { CountingLock } from './changes.js';
import { createEngines } from './container.js';

describe("the daemon's engine", () => {
  it('is one engine for real and dry runs, from the composition root', async () => {
    const engines = await createEngines();
    expect(engines.engine(false)).toBeInstanceOf(ImageEngine);
    // One engine for real and dry runs: the job's context says which.
    expect(engines.engine(true)).toBe(engines.engine(false));
    expect(typeof engines.runner.run).toBe('function');
  });

  it('takes its operation lock through the counting lock, which the read cache watches', async () => {
    const engines = await createEngines();
    // The engine keeps its parts to itself; this only checks the wiring.
    const { admin } = engines.engine(false) as unknown as { admin: { lock: unknown } };
    expect(admin.lock).toBeInstanceOf(CountingLock);
    expect(engines.changes.value).toBe(0);
  });
});
