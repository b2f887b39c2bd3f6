import type { OperationContext } from '../events.js';
import type { BootFiles, BootloaderPlugin } from './bootloader-plugin.js';
import type { CommandRunner } from './command-runner.js';
import type { Persistence, PersistencePolicy } from './persistence.js';

/**
 * A plugin is one module object: a package (or a JS module dropped into the plugin directory) exports
 * one definition as its default export. Core knows this shape and nothing about any particular plugin.
 */
export type PluginKind = 'bootloader' | 'persistence';

/**
 * The contract versions this imgbased implements. A plugin names the one it was written for; another
 * number is refused (E_PLUGIN_INCOMPATIBLE) before the plugin runs. Raised only on a breaking change.
 */
export const PLUGIN_CONTRACT_VERSIONS = { bootloader: 1, persistence: 1 } as const satisfies Record<PluginKind, number>;

/**
 * The validator of a plugin's configuration section, as a Standard Schema (https://standardschema.dev):
 * zod, valibot, arktype and others implement it, so a plugin built outside this repository brings its
 * own validator. Input: the INI section's values, all strings (or string lists). Output: the settings.
 */
export interface SettingsSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => SettingsResult<Output> | Promise<SettingsResult<Output>>;
  };
}
export type SettingsResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: readonly {
        readonly message: string;
        readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
      }[];
    };

interface PluginDefinitionBase<Kind extends PluginKind, Settings> {
  readonly kind: Kind;
  /** What the configuration calls it (`[bootloader] plugins = NAME`): lower case, digits and `-`. */
  readonly name: string;
  /** The contract version it implements: PLUGIN_CONTRACT_VERSIONS[kind] when it was built. */
  readonly contractVersion: number;
  /** Where `auto` tries it: lower first (bootloaders: OSTree's order, syslinux before grub). */
  readonly probeOrder: number;
  /** One line for listings and errors. */
  readonly description?: string | undefined;
  /**
   * Its own configuration section, `[KIND.NAME]` (e.g. `[bootloader.grub-bls]`): validated as strictly
   * as core's (the file and the key are named on error). Without one, such a section is refused.
   */
  readonly settings?: SettingsSchema<Settings> | undefined;
}

/** What the host gives a bootloader plugin. Everything it touches comes through here. */
export interface BootloaderServices<Settings = unknown> {
  /** The one way to run a system command (logged, dry-run aware, faked in tests). */
  readonly runner: CommandRunner;
  /** File operations on /boot or the ESP: Node's fs on a host, a fault-injecting one in crash tests. */
  readonly files: BootFiles;
  /** `[bootloader] boot_dir`: mount point of the boot partition, without a trailing slash. */
  readonly bootDir: string;
  /** The validated `[bootloader.NAME]` section (the schema's defaults when there is none). */
  readonly settings: Settings;
}

export interface BootloaderPluginDefinition<Settings = unknown> extends PluginDefinitionBase<'bootloader', Settings> {
  create(services: BootloaderServices<Settings>): BootloaderPlugin;
}

/** What the host gives a persistence plugin. */
export interface PersistenceServices<Settings = unknown> {
  readonly runner: CommandRunner;
  readonly settings: Settings;
}

/** A persistence plugin made for this host: the carrier and the paths it carries (from its settings). */
export interface PersistencePluginInstance {
  readonly persistence: Persistence;
  /** The policy its settings give (paths, excludes); the conflict policy comes from `[persistence]`. */
  readonly policy: Omit<PersistencePolicy, 'onConflict'>;
}

export interface PersistencePluginDefinition<Settings = unknown> extends PluginDefinitionBase<'persistence', Settings> {
  create(services: PersistenceServices<Settings>): PersistencePluginInstance;
}

/** Any plugin definition, whatever its settings type (`create` is a method, so it takes `unknown` here). */
export type PluginDefinition = BootloaderPluginDefinition<unknown> | PersistencePluginDefinition<unknown>;

/** Typing helpers for a plugin's default export (identity functions: they only check the shape). */
export function defineBootloaderPlugin<Settings>(
  definition: Omit<BootloaderPluginDefinition<Settings>, 'kind'>,
): BootloaderPluginDefinition<Settings> {
  return { kind: 'bootloader', ...definition };
}
export function definePersistencePlugin<Settings>(
  definition: Omit<PersistencePluginDefinition<Settings>, 'kind'>,
): PersistencePluginDefinition<Settings> {
  return { kind: 'persistence', ...definition };
}

/** The persistence plugins the configuration picked, in order, each with its full policy. */
export interface ConfiguredPersistence {
  readonly name: string;
  readonly persistence: Persistence;
  readonly policy: PersistencePolicy;
}
/** Picks the persistence plugins to run (`[persistence] plugins`), in order. */
export interface PersistenceSelection {
  select(context?: OperationContext): Promise<readonly ConfiguredPersistence[]>;
}
export const PersistenceSelection = Symbol.for('imgbased.PersistenceSelection');
