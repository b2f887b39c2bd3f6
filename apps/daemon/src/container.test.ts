import { ImageEngine, OperationLock } from '@imgbased/core';
import { PidFileLock } from '@imgbased/system';
import { describe, expect, it } from 'vitest';
import { buildContainer, createEngines } from './container.js';

describe("the daemon's composition root", () => {
  it('wires the real engine, and the CLI lock in the configured lock directory', async () => {
    const container = await buildContainer({ dryRun: false });
    const lock = container.resolve<PidFileLock>(OperationLock);
    expect(lock).toBeInstanceOf(PidFileLock);
    expect(lock.lockPath).toBe('/run/imgbased/lock');
    const engines = await createEngines();
    expect(engines.engine(false)).toBeInstanceOf(ImageEngine);
    expect(engines.engine(true)).not.toBe(engines.engine(false));
    expect(engines.runner.dryRun).toBe(false);
  });
});
