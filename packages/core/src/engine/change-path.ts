import type { OperationLock } from '../contracts/host.js';
import type { StorageReport, VolumeManager } from '../contracts/volume-manager.js';
import { CancelledError, ImgbasedError } from '../errors/index.js';
import { type EngineEvent, emit, type OperationContext } from '../events.js';
import type { ChangeResult, PlannedCommand } from '../layout/schema.js';
import type { HostRecovery } from './recovery.js';
import { Transaction } from './transaction.js';

/** Reports one step of an operation. */
export function step(tx: Transaction, name: string, message: string): void {
  emit(tx.context, { type: 'step', step: name, message });
}

/**
 * The one path every changing verb takes, volume and boot verbs alike: the operation lock (not in a
 * dry run, which changes nothing), recovery of what interrupted operations left half-made (volumes,
 * boot entries and files, mounts: see HostRecovery), then the
 * body inside a transaction that commits, or on any failure undoes every step. A failure caused by
 * the context's signal surfaces as CancelledError.
 */
export class ChangePath {
  constructor(
    private readonly volumes: VolumeManager,
    private readonly lock: OperationLock,
    private readonly recovery: HostRecovery,
  ) {}

  /** Runs `body` on the change path; returns its value and the volumes recovery removed. */
  async run<T>(
    purpose: string,
    context: OperationContext,
    body: (tx: Transaction, report: StorageReport) => Promise<T>,
  ): Promise<{ value: T; recovered: string[] }> {
    const held = context.dryRun ? undefined : await this.lock.acquire(purpose);
    try {
      const tx = new Transaction(context);
      let report = await this.volumes.report(context);
      const recovered = await this.recovery.recover(report, context);
      if (recovered.length > 0) report = await this.volumes.report(context);
      try {
        tx.checkpoint(purpose);
        const value = await body(tx, report);
        tx.checkpoint(purpose);
        step(tx, 'commit', 'Committing');
        await tx.commit();
        return { value, recovered };
      } catch (error) {
        await tx.rollback();
        throw error instanceof ImgbasedError || !context.signal?.aborted
          ? error
          : new CancelledError(purpose, { cause: error });
      }
    } finally {
      await held?.release();
    }
  }

  /**
   * Runs a volume verb on the change path and collects its ChangeResult: what the body made and
   * removed, what recovery removed, and (in a dry run) the plan, every command the runner recorded.
   */
  async change(
    purpose: string,
    context: OperationContext,
    body: (tx: Transaction, report: StorageReport, result: ChangeResult) => Promise<void>,
  ): Promise<ChangeResult> {
    const plan: PlannedCommand[] = [];
    const collecting: OperationContext = {
      signal: context.signal,
      dryRun: context.dryRun,
      report: (event: EngineEvent) => {
        if (event.type === 'command' && event.planned) plan.push({ argv: [...event.argv] });
        context.report?.(event);
      },
    };
    const result: ChangeResult = { dryRun: Boolean(context.dryRun), created: [], removed: [], recovered: [], plan };
    const { recovered } = await this.run(purpose, collecting, (tx, report) => body(tx, report, result));
    result.recovered.push(...recovered);
    return result;
  }
}
