import type { CommandResult, CommandRunner, CommandSpec } from '../contracts/command-runner.js';
import { CommandFailedError } from '../errors/index.js';
import { emit, type OperationContext } from '../events.js';

export interface ScriptedReply {
  readonly exitCode?: number;
  readonly stdout?: string;
  readonly stderr?: string;
}

type Responder = (spec: CommandSpec) => ScriptedReply | undefined;

export interface ScriptedRunnerOptions {
  /** Fail on a command no rule answers (default: it succeeds with empty output). */
  readonly strict?: boolean;
}

/**
 * A CommandRunner for unit tests: records every command and answers from a script. Unknown commands
 * succeed with empty output unless `strict` is set. As the real runner, it only records (emits as
 * planned) a mutating command when the context is a dry run.
 */
export class ScriptedRunner implements CommandRunner {
  readonly calls: CommandSpec[] = [];
  private readonly responders: Responder[] = [];
  private readonly strict: boolean;

  constructor(options: ScriptedRunnerOptions = {}) {
    this.strict = options.strict ?? false;
  }

  /** Answers commands whose argv starts with `prefix` (later rules win). */
  on(prefix: readonly string[] | ((spec: CommandSpec) => boolean), reply: ScriptedReply | Responder): this {
    const matches =
      typeof prefix === 'function' ? prefix : (spec: CommandSpec) => prefix.every((part, i) => spec.argv[i] === part);
    this.responders.unshift((spec) =>
      matches(spec) ? (typeof reply === 'function' ? reply(spec) : reply) : undefined,
    );
    return this;
  }

  /** Commands run so far, each joined with spaces, for compact assertions. */
  get commandLines(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }

  async run(spec: CommandSpec, context?: OperationContext): Promise<CommandResult> {
    this.calls.push(spec);
    const planned = Boolean(context?.dryRun) && spec.mutates;
    emit(context, { type: 'command', argv: spec.argv, mutates: spec.mutates, planned });
    if (planned) return { argv: spec.argv, exitCode: 0, stdout: '', stderr: '', durationMs: 0, planned };
    let reply: ScriptedReply | undefined;
    for (const responder of this.responders) {
      reply = responder(spec);
      if (reply !== undefined) break;
    }
    if (reply === undefined && this.strict)
      throw new Error(`ScriptedRunner: unexpected command ${spec.argv.join(' ')}`);
    const result = {
      argv: spec.argv,
      exitCode: reply?.exitCode ?? 0,
      stdout: reply?.stdout ?? '',
      stderr: reply?.stderr ?? '',
      durationMs: 0,
      planned: false,
    };
    if (!(spec.okExitCodes ?? [0]).includes(result.exitCode)) {
      throw new CommandFailedError(spec.argv, result.exitCode, result.stderr);
    }
    return result;
  }
}
