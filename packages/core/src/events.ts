/**
 * What an operation reports while it runs. The engine never prints: front ends (the CLI's progress
 * lines, the daemon's event stream) turn these events into output.
 */
export type EngineEvent =
  | { readonly type: 'step'; readonly step: string; readonly message: string }
  | {
      readonly type: 'command';
      readonly argv: readonly string[];
      readonly mutates: boolean;
      /** true when a dry run recorded the command instead of running it */
      readonly planned: boolean;
    }
  | {
      readonly type: 'command-done';
      readonly argv: readonly string[];
      readonly exitCode: number;
      readonly durationMs: number;
    }
  | { readonly type: 'undo'; readonly message: string }
  | {
      /** Bytes done of a long step (download, checksum, copy); total when known. */
      readonly type: 'progress';
      readonly step: string;
      readonly bytes: number;
      readonly total?: number | undefined;
      readonly bytesPerSecond?: number | undefined;
    }
  | { readonly type: 'warning'; readonly message: string };

/** Passed through every call that may take time or touch the system. */
export interface OperationContext {
  /** Cancels the operation; whatever it made so far is removed again. */
  readonly signal?: AbortSignal | undefined;
  readonly report?: ((event: EngineEvent) => void) | undefined;
  /**
   * A dry run: mutating commands are recorded, not run (the runner emits them as planned), boot
   * writes are described, not made, and no lock is taken. One container serves real and dry runs.
   */
  readonly dryRun?: boolean | undefined;
}

export function emit(context: OperationContext | undefined, event: EngineEvent): void {
  context?.report?.(event);
}
