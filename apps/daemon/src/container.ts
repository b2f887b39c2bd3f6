import { buildContainer } from '@imgbased/composition';
import { CommandRunner, ImageEngine, ImgbasedConfig } from '@imgbased/core';
import { ChangeCounter, CountingLock } from './changes.js';

export interface Engines {
  /** The engine for a job or route; the same one for a dry run, which its context carries. */
  readonly engine: (dryRun: boolean) => ImageEngine;
  readonly runner: CommandRunner;
  /** The configuration the engine was built with (the daemon reads its `[daemon]` section). */
  readonly config: ImgbasedConfig;
  /** Bumped whenever the engine takes or lets go of its operation lock, i.e. around every change. */
  readonly changes: ChangeCounter;
}

/**
 * The daemon's engine and command runner (for sd_notify), from imgbased's one composition root, as the
 * CLI gets its own: the same adapters, plugins and lock. The bootloader is chosen again on every call:
 * the daemon runs for months, and a /boot mounted or a bootloader installed after it started must count.
 */
export async function createEngines(): Promise<Engines> {
  // The same lock, counted: the read cache sees every change the engine makes.
  const changes = new ChangeCounter();
  const container = await buildContainer({
    bootloaderChoice: 'per-call',
    wrapLock: (lock) => new CountingLock(lock, changes),
  });
  const engine = container.resolve(ImageEngine);
  return {
    changes,
    engine: () => engine,
    runner: container.resolve<CommandRunner>(CommandRunner),
    config: container.resolve<ImgbasedConfig>(ImgbasedConfig),
  };
}
