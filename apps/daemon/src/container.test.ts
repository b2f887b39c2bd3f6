import { ImageEngine } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { createEngines } from './container.js';

describe("the daemon's engine", () => {
  it('is one engine for real and dry runs, from the composition root', async () => {
    const engines = await createEngines();
    expect(engines.engine(false)).toBeInstanceOf(ImageEngine);
    // One engine for real and dry runs: the job's context says which.
    expect(engines.engine(true)).toBe(engines.engine(false));
    expect(typeof engines.runner.run).toBe('function');
  });
});
