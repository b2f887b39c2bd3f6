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

/** Plugins made now, or made when first asked for (then once). */
type Offered<T> = T | (() => Promise<T>);
const offeredNow = async <T>(offered: Offered<T>): Promise<T> =>
  typeof offered === 'function' ? (offered as () => Promise<T>)() : offered;

/**
 * The configuration's choice of bootloader, made again for every call. ConfiguredBootloaders decides
 * once, which suits a CLI run; the daemon runs for months, and a /boot mounted or a bootloader
 * installed after it started must count (detection is a few file checks).
 */
export class PerCallBootloaderSelection implements BootloaderSelection {
  constructor(
    private readonly offered: Offered<readonly Bootloader[]>,
    private readonly configured: readonly string[],
  ) {}

  async select(context?: OperationContext): Promise<Bootloader | undefined> {
    return new ConfiguredBootloaders(await offeredNow(this.offered), this.configured).select(context);
  }
}

/** ConfiguredBootloaders (one choice per run) over bootloaders made when a verb first needs one. */
export class OnFirstUseBootloaders implements BootloaderSelection {
  private selection: Promise<ConfiguredBootloaders> | undefined;

  constructor(
    private readonly offered: Offered<readonly Bootloader[]>,
    private readonly configured: readonly string[],
  ) {}

  async select(context?: OperationContext): Promise<Bootloader | undefined> {
    this.selection ??= offeredNow(this.offered).then((o) => new ConfiguredBootloaders(o, this.configured));
    return (await this.selection).select(context);
  }
}

/** `[persistence] plugins`, in order, each with its paths and `[persistence] on_conflict`. */
export class ConfiguredPersistenceSelection implements PersistenceSelection {
  constructor(
    private readonly available: Offered<ReadonlyMap<string, PersistencePluginInstance>>,
    private readonly config: ImgbasedConfig['persistence'],
  ) {}

  async select(): Promise<readonly ConfiguredPersistence[]> {
    if (this.config.plugins.includes('none')) return [];
    const available = await offeredNow(this.available);
    return this.config.plugins.map((name) => {
      const instance = available.get(name);
      if (instance === undefined) throw new PluginInvalidError(name, 'no persistence plugin of this name is available');
      return {
        name,
        persistence: instance.persistence,
        policy: { ...instance.policy, onConflict: this.config.on_conflict },
      };
    });
  }
}
