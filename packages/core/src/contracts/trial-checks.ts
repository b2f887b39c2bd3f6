import type { OperationContext } from '../events.js';

/** One health check's result in the trial layer. */
export interface TrialCheckRun {
  readonly name: string;
  /** A required check that fails fails the trial; a wanted one is only reported. */
  readonly required: boolean;
  readonly ok: boolean;
  readonly detail?: string | undefined;
}

export interface TrialCheckSettings {
  /** Seconds each executable may take before it counts as failed. */
  readonly timeoutSeconds: number;
  /** Units that must not have failed; empty: no failed unit at all. */
  readonly units: readonly string[];
}

/**
 * Runs the checks of a trial layer inside its own userspace: the system reached its target with no
 * failed units (of `units`), then `/etc/imgbased/check.d/required.d/*` and `wanted.d/*`, in name order.
 */
export interface TrialChecker {
  run(settings: TrialCheckSettings, context?: OperationContext): Promise<TrialCheckRun[]>;
}
export const TrialChecker = Symbol.for('imgbased.TrialChecker');

/** Reboots the host (after a failed trial, per `[trial] on_failure = reboot`). */
export interface HostPower {
  reboot(context?: OperationContext): Promise<void>;
}
export const HostPower = Symbol.for('imgbased.HostPower');
