import {
  type Bootloader,
  type BootloaderSelection,
  ConfiguredBootloaders,
  type ConfiguredPersistence,
  type ImgbasedConfig,
  type OperationContext,
  type PersistencePluginInstance,
  type PersistenceSelection,
  PluginInvalidError,
} from '@imgbased/core';

/**
 * The configuration's choice of bootloader, made again for every call. ConfiguredBootloaders decides
 * once, which suits a CLI run; the daemon runs for months, and a /boot mounted or a bootloader
 * installed after it started must count (detection is a few file checks).
 */
export class PerCallBootloaderSelection implements BootloaderSelection {
  constructor(
    private readonly offered: readonly Bootloader[],
    private readonly configured: readonly string[],
  ) {}

  select(context?: OperationContext): Promise<Bootloader | undefined> {
    return new ConfiguredBootloaders(this.offered, this.configured).select(context);
  }
}

/** `[persistence] plugins`, in order, each with its paths and `[persistence] on_conflict`. */
export class ConfiguredPersistenceSelection implements PersistenceSelection {
  constructor(
    private readonly available: ReadonlyMap<string, PersistencePluginInstance>,
    private readonly config: ImgbasedConfig['persistence'],
  ) {}

  async select(): Promise<readonly ConfiguredPersistence[]> {
    if (this.config.plugins.includes('none')) return [];
    return this.config.plugins.map((name) => {
      const instance = this.available.get(name);
      if (instance === undefined) throw new PluginInvalidError(name, 'no persistence plugin of this name is available');
      return {
        name,
        persistence: instance.persistence,
        policy: { ...instance.policy, onConflict: this.config.on_conflict },
      };
    });
  }
}
