import type { OperationContext } from '../events.js';

/** One boot entry: a layer, booted with its own kernel and initrd. */
export interface BootEntry {
  /** Derived from the layer name; stable across rewrites. */
  readonly id: string;
  /** `<NVR+N> (<kernel version>)` */
  readonly title: string;
  readonly version: string;
  /** Paths relative to the boot partition's root. */
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly options: readonly string[];
  /** The layer this entry boots; undefined for entries imgbased did not write. */
  readonly layer: string | undefined;
}

export interface BootloaderCapabilities {
  /** The whole configuration is swapped in with one atomic rename on this file system. */
  readonly atomicSwap: boolean;
  /** The bootloader itself supports "boot this entry once". */
  readonly nativeOneShot: boolean;
  /** The bootloader itself counts boot attempts. */
  readonly nativeBootCounting: boolean;
}

export interface WriteResult {
  readonly atomic: boolean;
}

/**
 * A bootloader backend, in OSTree's shape: detect, name, write the complete desired set, list,
 * default and one-shot. Filled by the bootloader plugins.
 */
export interface Bootloader {
  readonly name: string;
  detect(context?: OperationContext): Promise<boolean>;
  capabilities(context?: OperationContext): Promise<BootloaderCapabilities>;
  /** Replaces imgbased's entries with exactly `entries`; entries it did not write are kept. */
  writeEntries(entries: readonly BootEntry[], context?: OperationContext): Promise<WriteResult>;
  listEntries(context?: OperationContext): Promise<readonly BootEntry[]>;
  setDefault(entryId: string, context?: OperationContext): Promise<WriteResult>;
  setNextBoot(entryId: string, context?: OperationContext): Promise<WriteResult>;
}
/** All configured bootloader plugins, in the packager's order of preference. */
export const Bootloader = Symbol.for('imgbased.Bootloader');
