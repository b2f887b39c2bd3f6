import type { OperationContext } from '../events.js';
import type { TrialBootloader } from './trial-bootloader.js';

/** One boot entry as installed: a layer, booted with its own kernel and initrd. */
export interface BootEntry {
  /** The entry's id (BLS file name without `.conf` and boot counter, grub menuentry id, extlinux LABEL). */
  readonly id: string;
  /** `<NVR+N> (<kernel version>)` for imgbased's entries. */
  readonly title: string;
  readonly version: string;
  /** Paths relative to the boot partition's root, starting with `/`. */
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly options: readonly string[];
  /** The layer this entry boots (its `img.bootid=`); undefined for entries imgbased did not write. */
  readonly layer: string | undefined;
  /** Boot counting state, when the entry's file name carries one (`+LEFT[-DONE]`). */
  readonly tries?: { readonly left: number; readonly done: number } | undefined;
}

/** Where a desired entry's kernel and initrd come from. */
export type BootFilesSource =
  /** Files on this host (e.g. in a mounted layer's /boot): copied to `/<layer>/` on the boot partition. */
  | { readonly kernel: string; readonly initrd?: string | undefined }
  /**
   * Files already on the boot partition (paths relative to its root, as in BootEntry): kept when they
   * are at the entry's own place, copied to `/<layer>/` otherwise.
   */
  | { readonly onBootPartition: { readonly kernel: string; readonly initrd?: string | undefined } };

/** One entry of the complete set imgbased wants installed. The plugin derives id and file paths. */
export interface DesiredBootEntry {
  /**
   * The id to keep: an installed entry's own id, for entries another tool wrote (the original's
   * `<layer>-<kver>.conf`), so that rewriting one replaces its file instead of adding a second entry
   * of the layer. Absent: the layer's entry of the same layer installed now keeps its id, else
   * `entryIdForLayer`.
   */
  readonly id?: string | undefined;
  readonly layer: string;
  readonly title: string;
  readonly version: string;
  readonly options: readonly string[];
  readonly files: BootFilesSource;
}

export interface BootloaderCapabilities {
  /** The whole configuration is swapped in with one atomic rename on this file system (not on FAT). */
  readonly atomicSwap: boolean;
  /** The bootloader itself supports "boot this entry once". */
  readonly nativeOneShot: boolean;
  /** The bootloader itself counts boot attempts. */
  readonly nativeBootCounting: boolean;
}

export interface WriteResult {
  /** True when the change was one atomic rename (or an atomic environment block write). */
  readonly atomic: boolean;
}

export interface BootState {
  readonly entries: readonly BootEntry[];
  /** Id of the default entry, as configured (undefined: the bootloader's own choice). */
  readonly defaultId: string | undefined;
  /** Id of the one-shot entry for the next boot, when one is set and can be read. */
  readonly nextId: string | undefined;
}

export interface WriteEntriesOptions {
  /** Keep the files of entries that leave the set (to undo a step); default false: they are removed. */
  readonly keepFiles?: boolean | undefined;
  /**
   * Leave the default where it is, even when none is configured (the default moves in a step of its
   * own, once the volume it names is committed); it still moves off an entry that leaves the set.
   */
  readonly keepDefault?: boolean | undefined;
  /**
   * Allow an empty set: taking out entries whose volumes are not committed (they cannot boot), as
   * recovery and undo do. Otherwise the last bootable entry is never removed.
   */
  readonly allowNoEntries?: boolean | undefined;
}

/** imgbased's own files on the boot partition, by name at its root. */
export interface OwnBootFiles {
  /** The boot partition's root (kernels go to `<root>/<layer>/`). */
  readonly root: string;
  /** Names of `/<layer>/` directories at the root (names that are layer names). */
  readonly layerDirs: readonly string[];
  /** Staging and temporary leftovers of an interrupted write (`.<name>.imgbased-new`), absolute paths. */
  readonly leftovers: readonly string[];
}

/**
 * The bootloader as the engine sees it: detect, name, write the complete desired set, state, default
 * and one-shot, capabilities. Core's ManagedBootloader implements it over a plugin (BootloaderPlugin).
 *
 * Guarantees every plugin gives: `writeEntries` reads and validates the existing configuration first
 * (a corrupted one is a BootConfigInvalidError and nothing is touched), copies new kernels before the
 * configuration that names them, swaps the configuration in with write-new/fsync/rename/fsync-dir,
 * and removes files only after. Entries imgbased did not write (no `img.bootid=`) are kept and listed.
 */
export interface Bootloader {
  readonly name: string;
  detect(context?: OperationContext): Promise<boolean>;
  capabilities(context?: OperationContext): Promise<BootloaderCapabilities>;
  /** Replaces imgbased's entries with exactly `entries`; entries it did not write are kept. */
  writeEntries(
    entries: readonly DesiredBootEntry[],
    options?: WriteEntriesOptions,
    context?: OperationContext,
  ): Promise<WriteResult>;
  /** Installed entries (imgbased's and foreign ones), with the default and one-shot. */
  state(context?: OperationContext): Promise<BootState>;
  setDefault(entryId: string, context?: OperationContext): Promise<WriteResult>;
  /** One-shot: boot `entryId` once, then the default again. BootUnsupportedError when not native. */
  setNextBoot(entryId: string, context?: OperationContext): Promise<WriteResult>;
  /** imgbased's files on the boot partition (for recovery to find those of removed layers). */
  ownFiles?(context?: OperationContext): Promise<OwnBootFiles>;
  /**
   * Removes `<root>/<layer>` directories and leftovers that `ownFiles` lists (absolute paths), never a
   * directory an installed entry still boots from (skipped), nor anything else.
   */
  removeOwnFiles?(paths: readonly string[], context?: OperationContext): Promise<void>;
  /** Trial boots, when the bootloader's plugin declares them (undefined otherwise). */
  trial?(): TrialBootloader | undefined;
}
/** All bootloader plugins a front end offers (registered with the container), in its order. */
export const Bootloader = Symbol.for('imgbased.Bootloader');

/** Picks the bootloader to use on this host (from the configuration and `detect()`). */
export interface BootloaderSelection {
  /** The bootloader to use; undefined when none is configured/present (entries are then skipped). */
  select(context?: OperationContext): Promise<Bootloader | undefined>;
}
export const BootloaderSelection = Symbol.for('imgbased.BootloaderSelection');
