import {
  CancelledError,
  CommandFailedError,
  CommandNotFoundError,
  type CommandResult,
  type CommandRunner,
  type CommandSpec,
  emit,
  type OperationContext,
} from '@imgbased/core';
import { execa } from 'execa';
import { injectable } from 'tsyringe';
import { commandStepName, failpoint } from './failpoint.js';

/**
 * The CommandRunner of the real host, on execa. Programs are started directly (argv[0] looked up in
 * PATH, never through a shell), with `LC_ALL=C` so that tools print the messages and number formats
 * that parsers expect, stdin closed unless the spec gives input, and stdout/stderr returned exactly
 * as printed (the final newline is kept: callers trim what they parse). In a dry run (`context.dryRun`)
 * a command with `mutates: true` is recorded (emitted as planned), not run; reading commands still run.
 * After every mutating command a crash test may kill the process (see failpoint.ts; off in production).
 *
 * Events: `command` before every command (planned or not); `command-done` after every command that
 * ran and exited, whatever its exit code. A command that could not start, was cancelled, timed out or
 * was killed by a signal gets no `command-done`: its error says what happened.
 */
@injectable()
export class ExecaCommandRunner implements CommandRunner {
  async run(spec: CommandSpec, context?: OperationContext): Promise<CommandResult> {
    const { argv } = spec;
    const program = argv[0];
    if (program === undefined || program === '') throw new CommandNotFoundError('(empty argv)');
    const signal = context?.signal;
    const planned = Boolean(context?.dryRun) && spec.mutates;
    if (signal?.aborted) throw new CancelledError(`'${argv.join(' ')}'`, { cause: signal.reason });
    emit(context, { type: 'command', argv, mutates: spec.mutates, planned });
    if (planned) return { argv, exitCode: 0, stdout: '', stderr: '', durationMs: 0, planned: true };

    const started = performance.now();
    const result = await execa(program, argv.slice(1), {
      reject: false,
      shell: false,
      stripFinalNewline: false,
      encoding: 'utf8',
      extendEnv: true,
      env: { LC_ALL: 'C', ...spec.env },
      ...(spec.input === undefined ? { stdin: 'ignore' as const } : { input: spec.input }),
      ...(signal === undefined ? {} : { cancelSignal: signal }),
      ...(spec.timeoutMs === undefined ? {} : { timeout: spec.timeoutMs }),
    });
    const durationMs = Math.round(performance.now() - started);
    if (spec.mutates) failpoint(commandStepName(argv), argv.join(' '));
    const stdout = typeof result.stdout === 'string' ? result.stdout : '';
    const stderr = typeof result.stderr === 'string' ? result.stderr : '';

    if (result.failed && result.code === 'ENOENT' && result.exitCode === undefined) {
      throw new CommandNotFoundError(program);
    }
    if (result.isCanceled) throw new CancelledError(`'${argv.join(' ')}'`, { cause: signal?.reason ?? result });
    if (result.timedOut) {
      throw new CommandFailedError(argv, undefined, `${stderr}\ntimed out after ${spec.timeoutMs} ms`, {
        cause: result,
      });
    }
    if (result.exitCode === undefined) {
      // Killed by a signal, or could not be started for a reason other than a missing program.
      const why = result.signal === undefined ? (result.shortMessage ?? 'could not run') : `killed by ${result.signal}`;
      throw new CommandFailedError(argv, undefined, `${stderr}\n${why}`, { cause: result });
    }

    emit(context, { type: 'command-done', argv, exitCode: result.exitCode, durationMs });
    if (!(spec.okExitCodes ?? [0]).includes(result.exitCode)) {
      throw new CommandFailedError(argv, result.exitCode, stderr);
    }
    return { argv, exitCode: result.exitCode, stdout, stderr, durationMs, planned: false };
  }
}
