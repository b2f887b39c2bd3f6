import { CancelledError } from '../errors/index.js';
import { emit, type OperationContext } from '../events.js';

interface UndoStep {
  readonly description: string;
  readonly action: (context: OperationContext) => Promise<void>;
}

/**
 * The undo log of one operation. Every step that changes the system registers how to take itself
 * back; on failure or cancellation the steps are undone newest first. Undo runs without the
 * operation's abort signal: a cancelled operation must still clean up completely.
 */
export class Transaction {
  private readonly undoSteps: UndoStep[] = [];
  private readonly commitSteps: UndoStep[] = [];

  constructor(readonly context: OperationContext) {}

  onUndo(description: string, action: (context: OperationContext) => Promise<void>): void {
    this.undoSteps.push({ description, action });
  }

  /** Registers a step of the commit, run in order once the whole operation has succeeded. */
  onCommit(description: string, action: (context: OperationContext) => Promise<void>): void {
    this.commitSteps.push({ description, action });
  }

  async commit(): Promise<void> {
    for (const step of this.commitSteps) await step.action(this.context);
    this.undoSteps.length = 0;
  }

  /** Throws CancelledError when the operation was cancelled; called between steps. */
  checkpoint(what: string): void {
    if (this.context.signal?.aborted) throw new CancelledError(what, { cause: this.context.signal.reason });
  }

  /** Undoes every registered step; returns the ones that failed (already reported as warnings). */
  async rollback(): Promise<string[]> {
    // A dry run's undo is planned too: only the signal is dropped.
    const cleanupContext: OperationContext = { report: this.context.report, dryRun: this.context.dryRun };
    const failed: string[] = [];
    while (this.undoSteps.length > 0) {
      const step = this.undoSteps.pop()!;
      emit(this.context, { type: 'undo', message: step.description });
      try {
        await step.action(cleanupContext);
      } catch (error) {
        failed.push(step.description);
        emit(this.context, {
          type: 'warning',
          message: `could not undo (${step.description}): ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    return failed;
  }
}
