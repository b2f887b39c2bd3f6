import type { TrialProtocol, TrialRecord } from '../boot/trial-protocol.js';
import type { OperationContext } from '../events.js';
import type { BootConfiguration, BootLocation } from './bootloader-plugin.js';

/** The trial the bootloader holds now: the entry it will boot by itself, and the boots left. */
export interface ArmedTrial {
  readonly entryId: string;
  readonly left: number;
}

/**
 * A plugin's trial-boot capability (docs/trial-boots.md): the bootloader's own state for one trial.
 * Each method is one durable write (or none), so core's plans can be cut between any two of them.
 */
export interface BootloaderTrial<Parsed = unknown> {
  readonly protocol: TrialProtocol;
  /** The armed trial, from the bootloader's own state (grubenv, `+N` file names, the ADV). */
  armed(
    location: BootLocation,
    before: BootConfiguration<Parsed>,
    context?: OperationContext,
  ): Promise<ArmedTrial | undefined>;
  /** Arms `entryId` for `left` boots (extlinux: always one); the lasting default is not touched. */
  arm(
    location: BootLocation,
    entryId: string,
    left: number,
    before: BootConfiguration<Parsed>,
    context?: OperationContext,
  ): Promise<void>;
  /**
   * Drops the armed trial. With `makeDefault`, the same write makes that entry the default where the
   * format allows (grub: one grubenv rewrite); otherwise core calls `writeDefault` after.
   */
  disarm(
    location: BootLocation,
    before: BootConfiguration<Parsed>,
    makeDefault?: string,
    context?: OperationContext,
  ): Promise<{ readonly defaultWritten: boolean }>;
}

/**
 * What the engine sees of a bootloader with trial boots: the bootloader's trial state by layer, and
 * the record at `<boot root>/imgbased/trial.json`. Each method is one durable write or a read.
 */
export interface TrialBootloader {
  readonly protocol: TrialProtocol;
  /** The layer the bootloader boots by itself now (its default entry's layer), and the armed trial. */
  trialState(context?: OperationContext): Promise<{
    readonly defaultLayer: string | undefined;
    readonly armed: { readonly layer: string; readonly left: number } | undefined;
  }>;
  arm(layer: string, left: number, context?: OperationContext): Promise<void>;
  disarm(makeDefault: string | undefined, context?: OperationContext): Promise<void>;
  setDefaultLayer(layer: string, context?: OperationContext): Promise<void>;
  readRecord(context?: OperationContext): Promise<TrialRecord>;
  writeRecord(record: TrialRecord, context?: OperationContext): Promise<void>;
}
