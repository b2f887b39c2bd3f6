import { InternalError, VERB_NAMES, type VerbEngine, type VerbName, verbArgsJsonSchema } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

/** An engine whose every call fails after being recorded: what matters here is which call is made. */
function failingEngine(calls: string[]): VerbEngine {
  return new Proxy({} as VerbEngine, {
    // Not a thenable: `createEngine` resolves to it.
    get: (_target, method: string) =>
      method === 'then'
        ? undefined
        : async () => {
            calls.push(method);
            throw new InternalError(`not wired in this test: ${method}`);
          },
  });
}

/** `imgbase VERB [VALUE] --json`: the verb's command and flag, with a value when the verb needs an argument. */
function argvOf(verb: VerbName): string[] {
  const takesValue = verbArgsJsonSchema(verb).required.length > 0;
  return [...verb.split(' '), ...(takesValue ? ['Base-1-0+1'] : []), '--json'];
}

describe('every verb of core’s table', () => {
  it.each(VERB_NAMES)('%s has a command of imgbase that names it and reaches the engine (or root)', async (verb) => {
    const calls: string[] = [];
    let stdout = '';
    const code = await runCli(argvOf(verb), {
      io: { stdout: (t) => (stdout += t), stderr: () => undefined, isRoot: false },
      version: '0',
      createEngine: async () => failingEngine(calls),
    });
    // A verb without a command or flag is a commander usage error, with no JSON envelope at all.
    expect(stdout, `imgbase ${argvOf(verb).join(' ')}`).not.toBe('');
    const envelope = JSON.parse(stdout);
    expect(envelope.verb).toBe(verb);
    expect(code).toBe(1);
    // Not root: a changing verb is refused before the engine; a reading one makes exactly one engine call.
    if (envelope.error.code === 'E_NOT_ROOT') expect(calls).toEqual([]);
    else expect([envelope.error.code, calls.length]).toEqual(['E_INTERNAL', 1]);
  });
});
