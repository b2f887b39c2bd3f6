import type { OperationContext } from '../events.js';

export interface CommandSpec {
  /** Program and arguments. Never interpreted by a shell. */
  readonly argv: readonly string[];
  /** True when the command changes the system: a dry run (`context.dryRun`) records it instead of running it. */
  readonly mutates: boolean;
  readonly input?: string | Uint8Array | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** Exit codes that count as success (default: only 0). */
  readonly okExitCodes?: readonly number[] | undefined;
  readonly timeoutMs?: number | undefined;
}

export interface CommandResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** True when the command was only recorded (dry run), not run: stdout is then empty. */
  readonly planned: boolean;
}

/**
 * The one way imgbased runs a system command. Failures reject with CommandFailedError,
 * a missing program with CommandNotFoundError, an aborted context with CancelledError.
 * With `context.dryRun`, a mutating command is only recorded: emitted as planned, not run.
 */
export interface CommandRunner {
  run(spec: CommandSpec, context?: OperationContext): Promise<CommandResult>;
}
export const CommandRunner = Symbol.for('imgbased.CommandRunner');
