import type { TrialBootloader } from '../contracts/trial-bootloader.js';
import { UsageError } from '../errors/index.js';
import type { OperationContext } from '../events.js';
import {
  applyTrialStep,
  decideAfterBoot,
  planMarkBad,
  planMarkGood,
  planStartTrial,
  type TrialDecision,
  type TrialMachine,
  type TrialStep,
} from './trial-protocol.js';

export interface TrialOptions {
  /** Boots a trial gets (`[trial] tries`, 1..9). */
  readonly tries: number;
  /** `[trial] on_failure`: reboot into the good layer after a failed check, or stay. */
  readonly onFailure: 'reboot' | 'stay';
  readonly now?: () => Date;
}

/** The outcome of the check service's run on one boot. */
export interface TrialCheckOutcome {
  readonly layer: string | undefined;
  readonly result: 'no-trial' | 'waiting' | 'good' | 'failed' | 'repaired';
  readonly reason?: string | undefined;
  /** The host should reboot now (into the good layer, or into the trial again for extlinux's next try). */
  readonly reboot: boolean;
}

/** The result of the checks the service runs in the trial layer (built-in and check.d). */
export type TrialCheckResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Runs core's trial plans against one bootloader: each step one durable write, in the plan's order,
 * so a crash leaves what the protocol's model proved safe (trial-protocol.test.ts).
 */
export class TrialBoots {
  constructor(
    private readonly bootloader: TrialBootloader,
    private readonly options: TrialOptions,
  ) {}

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  async machine(context?: OperationContext): Promise<TrialMachine> {
    const [state, record] = await Promise.all([
      this.bootloader.trialState(context),
      this.bootloader.readRecord(context),
    ]);
    return { boot: { defaultLayer: state.defaultLayer ?? '', armed: state.armed }, record };
  }

  /** Boots `layer` as a trial; the default stays the current (good) layer. */
  async start(layer: string, context?: OperationContext): Promise<TrialMachine> {
    const machine = await this.machine(context);
    const running = machine.record.trial;
    if (running !== undefined) {
      throw new UsageError(
        `A trial of ${running.layer} is running: boot --mark-good or --mark-bad ${running.layer} first`,
      );
    }
    if (machine.boot.defaultLayer === '') throw new UsageError('No default boot entry to fall back on: set one first');
    if (machine.boot.defaultLayer === layer) throw new UsageError(`${layer} is already the default: nothing to try`);
    const steps = planStartTrial(machine, this.bootloader.protocol, layer, this.options.tries, this.now());
    return this.execute(machine, steps, context);
  }

  /** Marks the running trial good (by hand or from the check): it becomes the lasting default. */
  async markGood(layer: string | undefined, context?: OperationContext): Promise<TrialMachine> {
    const machine = await this.machine(context);
    this.requireTrial(machine, layer, 'boot --mark-good');
    return this.execute(machine, planMarkGood(machine, this.bootloader.protocol, this.now()), context);
  }

  /** Marks the running trial bad with `reason`: the last good layer stays (or becomes again) the default. */
  async markBad(layer: string, reason: string, context?: OperationContext): Promise<TrialMachine> {
    const machine = await this.machine(context);
    this.requireTrial(machine, layer, 'boot --mark-bad');
    return this.execute(machine, planMarkBad(machine, reason, this.now()), context);
  }

  /**
   * What the check service does once per boot: reconcile after a crash or a trial that never reached
   * its check, or, booted into the trial, run `checks` and mark it good or bad.
   */
  async check(
    booted: string,
    checks: () => Promise<TrialCheckResult>,
    context?: OperationContext,
  ): Promise<TrialCheckOutcome> {
    const machine = await this.machine(context);
    const decision: TrialDecision = decideAfterBoot(machine, this.bootloader.protocol, booted, this.now());
    const layer = machine.record.trial?.layer;
    if (decision.action === 'none') {
      return { layer, result: layer === undefined ? 'no-trial' : 'waiting', reboot: false };
    }
    if (decision.action === 'repair') {
      await this.execute(machine, decision.steps, context);
      const failed = decision.steps.some(
        (s) => s.kind === 'record' && s.record.layers[layer ?? '']?.state === 'failed',
      );
      return {
        layer,
        result: failed ? 'failed' : 'repaired',
        reason: decision.why,
        reboot: decision.reboot && this.options.onFailure === 'reboot',
      };
    }
    const result = await checks();
    if (result.ok) {
      await this.markGood(layer, context);
      return { layer, result: 'good', reboot: false };
    }
    await this.markBad(booted, result.reason, context);
    return { layer, result: 'failed', reason: result.reason, reboot: this.options.onFailure === 'reboot' };
  }

  private requireTrial(machine: TrialMachine, layer: string | undefined, verb: string): void {
    const trial = machine.record.trial;
    if (trial === undefined) throw new UsageError(`${verb}: no trial is running`);
    if (layer !== undefined && layer !== trial.layer) {
      throw new UsageError(`${verb} ${layer}: the running trial is ${trial.layer}`);
    }
  }

  private async execute(machine: TrialMachine, steps: readonly TrialStep[], context?: OperationContext) {
    let current = machine;
    for (const step of steps) {
      await this.apply(step, context);
      current = applyTrialStep(current, step);
    }
    return current;
  }

  private async apply(step: TrialStep, context?: OperationContext): Promise<void> {
    switch (step.kind) {
      case 'record':
        return this.bootloader.writeRecord(step.record, context);
      case 'arm':
        return this.bootloader.arm(step.layer, step.left, context);
      case 'disarm':
        return this.bootloader.disarm(undefined, context);
      case 'default':
        return this.bootloader.setDefaultLayer(step.layer, context);
      case 'default-and-disarm':
        return this.bootloader.disarm(step.layer, context);
    }
  }
}
