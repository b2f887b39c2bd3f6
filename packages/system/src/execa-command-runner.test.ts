import { CancelledError, CommandFailedError, CommandNotFoundError, type EngineEvent } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { ExecaCommandRunner } from './execa-command-runner.js';

function recorder() {
  const events: EngineEvent[] = [];
  return { events, context: { report: (event: EngineEvent) => events.push(event) } };
}

describe('ExecaCommandRunner', () => {
  const runner = new ExecaCommandRunner();

  it('runs a program and returns its output exactly, final newline kept', async () => {
    const result = await runner.run({ argv: ['sh', '-c', 'echo out; echo err >&2'], mutates: false });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'out\n', stderr: 'err\n', planned: false });
    expect(result.argv).toEqual(['sh', '-c', 'echo out; echo err >&2']);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('never interprets argv with a shell', async () => {
    const result = await runner.run({ argv: ['echo', '$HOME;', '`id`', '*'], mutates: false });
    expect(result.stdout).toBe('$HOME; `id` *\n');
  });

  it('emits command before and command-done after', async () => {
    const { events, context } = recorder();
    await runner.run({ argv: ['true'], mutates: true }, context);
    expect(events).toEqual([
      { type: 'command', argv: ['true'], mutates: true, planned: false },
      { type: 'command-done', argv: ['true'], exitCode: 0, durationMs: expect.any(Number) },
    ]);
  });

  it('maps a failing exit code to CommandFailedError with exit code and stderr', async () => {
    const { events, context } = recorder();
    const error = await runner
      .run({ argv: ['sh', '-c', 'echo x; echo bad thing >&2; exit 3'], mutates: false }, context)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as CommandFailedError).code).toBe('E_COMMAND_FAILED');
    expect((error as CommandFailedError).details).toMatchObject({ exitCode: 3, stderr: 'bad thing\n' });
    expect((error as Error).message).toContain('bad thing');
    expect(events.at(-1)).toMatchObject({ type: 'command-done', exitCode: 3 });
  });

  it('accepts the exit codes listed in okExitCodes', async () => {
    const result = await runner.run({ argv: ['false'], mutates: false, okExitCodes: [0, 1] });
    expect(result.exitCode).toBe(1);
    await expect(runner.run({ argv: ['false'], mutates: false })).rejects.toBeInstanceOf(CommandFailedError);
  });

  it('maps a missing program to CommandNotFoundError', async () => {
    const error = await runner
      .run({ argv: ['imgbased-no-such-program-xyz', '--help'], mutates: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandNotFoundError);
    expect((error as CommandNotFoundError).details).toEqual({ program: 'imgbased-no-such-program-xyz' });
  });

  it('passes input on stdin, and closes stdin when there is none', async () => {
    expect((await runner.run({ argv: ['cat'], mutates: false, input: 'hello' })).stdout).toBe('hello');
    expect((await runner.run({ argv: ['cat'], mutates: false, timeoutMs: 5000 })).stdout).toBe('');
  });

  it('sets LC_ALL=C, keeps the environment and adds the spec env', async () => {
    process.env.IMGBASED_TEST_INHERITED = 'inherited';
    try {
      const result = await runner.run({
        argv: ['sh', '-c', 'echo "$LC_ALL $IMGBASED_TEST_INHERITED $EXTRA"'],
        mutates: false,
        env: { EXTRA: 'extra' },
      });
      expect(result.stdout).toBe('C inherited extra\n');
    } finally {
      delete process.env.IMGBASED_TEST_INHERITED;
    }
  });

  it('cancels a running command when the context is aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = runner.run({ argv: ['sleep', '5'], mutates: false }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 100);
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).cause).toBeDefined();
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('does not start a command when the context is already aborted', async () => {
    const { events } = recorder();
    const controller = new AbortController();
    controller.abort();
    await expect(
      runner.run({ argv: ['true'], mutates: false }, { signal: controller.signal, report: (e) => events.push(e) }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(events).toEqual([]);
  });

  it('fails a command that runs past its timeout', async () => {
    const error = await runner.run({ argv: ['sleep', '5'], mutates: false, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as Error).message).toContain('timed out');
  });

  describe('in a dry run (context.dryRun)', () => {
    it('records mutating commands instead of running them', async () => {
      const { events, context } = recorder();
      // Would fail if it ran.
      const result = await runner.run({ argv: ['sh', '-c', 'exit 7'], mutates: true }, { ...context, dryRun: true });
      expect(result).toEqual({
        argv: ['sh', '-c', 'exit 7'],
        exitCode: 0,
        stdout: '',
        stderr: '',
        durationMs: 0,
        planned: true,
      });
      expect(events).toEqual([{ type: 'command', argv: ['sh', '-c', 'exit 7'], mutates: true, planned: true }]);
    });

    it('still runs commands that only read', async () => {
      const result = await runner.run({ argv: ['echo', 'read'], mutates: false }, { dryRun: true });
      expect(result).toMatchObject({ stdout: 'read\n', planned: false });
    });

    it('runs mutating commands when the context is not a dry run, on the same runner', async () => {
      const result = await runner.run({ argv: ['echo', 'ran'], mutates: true }, { dryRun: false });
      expect(result).toMatchObject({ stdout: 'ran\n', planned: false });
    });
  });
});
