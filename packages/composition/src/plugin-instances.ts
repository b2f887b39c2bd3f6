import {
  type BootFileOps,
  type Bootloader,
  type BootloaderPluginDefinition,
  bootFiles,
  type CommandRunner,
  type HostInfo,
  type ImgbasedConfig,
  ManagedBootloader,
  type PersistencePluginDefinition,
  type PersistencePluginInstance,
  type PluginDefinition,
  PluginInvalidError,
  resolvePluginSettings,
} from '@imgbased/core';

export interface PluginHost {
  readonly runner: CommandRunner;
  readonly host: HostInfo;
  readonly bootFileOps: BootFileOps;
  readonly config: ImgbasedConfig;
}

/** A bootloader plugin made for this host, behind core's ManagedBootloader, with its probing order. */
export interface OfferedBootloader {
  readonly bootloader: Bootloader;
  readonly probeOrder: number;
}

/** Every bootloader plugin available, made with its settings, in probing order (stable for ties). */
export async function makeBootloaders(
  definitions: readonly PluginDefinition[],
  host: PluginHost,
): Promise<Bootloader[]> {
  const offered: OfferedBootloader[] = [];
  const bootDir = host.config.bootloader.boot_dir.replace(/\/+$/, '') || '/';
  for (const definition of definitions) {
    if (definition.kind !== 'bootloader') continue;
    const d = definition as BootloaderPluginDefinition<unknown>;
    const settings = await resolvePluginSettings(d, host.config.pluginSections);
    const plugin = created(d.name, () =>
      d.create({ runner: host.runner, files: bootFiles(host.bootFileOps), bootDir, settings }),
    );
    offered.push({ bootloader: new ManagedBootloader(plugin, host.bootFileOps, host.host), probeOrder: d.probeOrder });
  }
  return offered
    .map((o, index) => ({ ...o, index }))
    .sort((a, b) => a.probeOrder - b.probeOrder || a.index - b.index)
    .map((o) => o.bootloader);
}

/** Every persistence plugin available, made with its settings, by name. */
export async function makePersistence(
  definitions: readonly PluginDefinition[],
  host: PluginHost,
): Promise<Map<string, PersistencePluginInstance>> {
  const out = new Map<string, PersistencePluginInstance>();
  for (const definition of definitions) {
    if (definition.kind !== 'persistence') continue;
    const d = definition as PersistencePluginDefinition<unknown>;
    const settings = await resolvePluginSettings(d, host.config.pluginSections);
    out.set(
      d.name,
      created(d.name, () => d.create({ runner: host.runner, settings })),
    );
  }
  return out;
}

/** A plugin whose create() throws is refused by name, not reported as an internal error. */
function created<T>(name: string, create: () => T): T {
  try {
    const made = create();
    if (typeof made !== 'object' || made === null) throw new Error('create() returned nothing');
    return made;
  } catch (error) {
    throw new PluginInvalidError(name, `create() failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
