import type { OperationContext } from '../events.js';
import type { BootEntry } from './bootloader.js';
import type { BootloaderTrial } from './trial-bootloader.js';

/**
 * The crash-safe file steps every plugin takes, over primitive operations the plugin provides (Node's
 * fs in the plugins, a fault-injecting wrapper in the crash tests). Core stays free of I/O.
 *
 * Order, so that a crash at any step leaves a bootable configuration: (1) a new layer's kernel and
 * initrd are copied into a hidden staging directory, fsynced, and renamed to `/<layer>/` (nothing
 * names them yet); (2) each configuration file is written new, fsynced, renamed over the old one, and
 * its directory fsynced; (3) only then are the files of entries that left the set removed.
 */
export interface BootFileOps {
  /** The file's text, undefined when it does not exist. */
  read(path: string): Promise<string | undefined>;
  /** Names in a directory, [] when it does not exist. */
  list(directory: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  /** Creates `path` (which must not exist) with `data` and fsyncs it. */
  writeNew(path: string, data: string): Promise<void>;
  /** Copies a file to `to` (which must not exist) and fsyncs it. */
  copyNew(from: string, to: string): Promise<void>;
  mkdir(directory: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  syncDirectory(directory: string): Promise<void>;
  /** Removes a file or a directory tree; nothing when it does not exist. */
  remove(path: string): Promise<void>;
  /**
   * The path with every symlink followed (the path itself when it does not exist). Replacing a file
   * that is a symlink (RHEL's grubenv points into the ESP) means renaming over its target, not the link.
   */
  resolve?(path: string): Promise<string>;
}

/** Where a bootloader's files live on this host, as its plugin found them. */
export interface BootLocation {
  /** The root of the partition kernels go to (each layer's in `/<layer>/` below it): /boot or the ESP. */
  readonly root: string;
  /** The configuration file or directory, named in errors about the configuration. */
  readonly config: string;
}

/** The configuration as the plugin read it. */
export interface BootConfiguration<Parsed = unknown> {
  /** Every entry: imgbased's (with `layer`) and foreign ones (without), in the bootloader's order. */
  readonly entries: readonly BootEntry[];
  /** The default entry's id, as configured (undefined: the bootloader's own choice). */
  readonly defaultId: string | undefined;
  /** The one-shot entry's id, when one is set and can be read. */
  readonly nextId: string | undefined;
  /** The plugin's own parse, handed back to its `write` (e.g. foreign lines to keep as they are). */
  readonly parsed: Parsed;
}

/** One of imgbased's entries, to be rendered: id and file paths already derived by core. */
export interface RenderedBootEntry {
  readonly id: string;
  readonly layer: string;
  readonly title: string;
  readonly version: string;
  /** Paths relative to the boot partition's root (`/<layer>/vmlinuz-…`). */
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly options: readonly string[];
}

/** The configuration core wants: exactly these imgbased entries, and this default. */
export interface BootConfigurationChange {
  /** imgbased's entries, oldest first. Foreign entries (in `before`) are the plugin's to keep untouched. */
  readonly entries: readonly RenderedBootEntry[];
  /** The default to configure (an id of `entries` or of a foreign entry); undefined: leave it unset. */
  readonly defaultId: string | undefined;
}

/**
 * A bootloader plugin, in OSTree's shape: five methods and a name. It knows its format (parse in
 * `read`, render in `write`) and where its files live; everything else (validating first, staging
 * kernels before the configuration names them, the atomic-filesystem check, pruning files after,
 * undoing a half-made write, dry runs) is done once, by core's `ManagedBootloader`, for every plugin.
 *
 * Errors: `read` may throw anything. core reports errors that carry an errno `code` (EIO, EACCES…)
 * as E_BOOT_WRITE_FAILED and any other as E_BOOT_CONFIG_INVALID naming `location.config`, so a plugin
 * needs no import of core at run time. `write` must leave the previous configuration in force until
 * its last rename (use `files.replace`, write-new/fsync/rename/fsync-dir), and write only what differs.
 */
export interface BootloaderPlugin<Parsed = unknown> {
  readonly name: string;
  /** True when this bootloader is installed on the host (a few file checks, no side effects). */
  detect(context?: OperationContext): Promise<boolean>;
  locate(context?: OperationContext): Promise<BootLocation>;
  read(location: BootLocation, context?: OperationContext): Promise<BootConfiguration<Parsed>>;
  /** Renders `change` and swaps it in; returns how many files it replaced (0 or 1: one atomic swap). */
  write(
    location: BootLocation,
    change: BootConfigurationChange,
    before: BootConfiguration<Parsed>,
    context?: OperationContext,
  ): Promise<{ readonly filesReplaced: number }>;
  /** Makes `entryId` (an entry of `before`) the default, touching nothing else; returns files replaced. */
  writeDefault(
    location: BootLocation,
    entryId: string,
    before: BootConfiguration<Parsed>,
    context?: OperationContext,
  ): Promise<{ readonly filesReplaced: number }>;

  // ---- optional capabilities (core's defaults when absent: none) ----

  /** The bootloader boots an entry once, then the default again (grubenv `next_entry`, an EFI variable). */
  readonly oneShot?: BootloaderOneShot<Parsed> | undefined;
  /** The bootloader itself counts boot attempts (systemd-boot's `+N` file names). */
  readonly bootCounting?: boolean | undefined;
  /** Trial boots (docs/trial-boots.md): the bootloader's own state for one trial. */
  readonly trial?: BootloaderTrial<Parsed> | undefined;
}

export interface BootloaderOneShot<Parsed = unknown> {
  /** Whether it works on this host now (e.g. systemd-boot needs to have been booted with UEFI). */
  available(location: BootLocation, context?: OperationContext): Promise<boolean>;
  set(
    location: BootLocation,
    entryId: string,
    before: BootConfiguration<Parsed>,
    context?: OperationContext,
  ): Promise<void>;
}

/** BootFileOps with the two crash-safe steps plugins write with, as the host hands them over. */
export interface BootFiles extends BootFileOps {
  /** Write new, fsync, rename over `path`, fsync the directory. */
  replace(path: string, data: string): Promise<void>;
  /** Remove and fsync the directory. */
  removeDurably(path: string): Promise<void>;
}
