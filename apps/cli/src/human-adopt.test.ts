import type { AdoptResult, VerbEngine } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const step = (step: 'tag' | 'protect', message: string) => ({ volume: 'N-1-0', kind: 'base' as const, step, message });

async function adopt(result: AdoptResult, argv: string[]): Promise<{ code: number; stdout: string; dryRun: unknown }> {
  let stdout = '';
  let dryRun: unknown;
  const engine = {
    adoptLayout: async (context: { dryRun?: boolean }) => {
      dryRun = context.dryRun;
      return result;
    },
  } as unknown as VerbEngine;
  const code = await runCli(['layout', '--adopt', ...argv], {
    io: { stdout: (t) => (stdout += t), stderr: () => undefined, isRoot: true },
    version: '0',
    createEngine: async () => engine,
  });
  return { code, stdout, dryRun };
}

describe('imgbase layout --adopt', () => {
  it('prints each step taken and what it left as it is', async () => {
    const result = {
      dryRun: false,
      steps: [step('tag', 'Tagging N-1-0 imgbased:base'), step('protect', 'Protecting base N-1-0')],
      skipped: ['x: its name is neither NVR nor NVR+N'],
      plan: [],
    };
    expect(await adopt(result, [])).toEqual({
      code: 0,
      stdout:
        'Tagging N-1-0 imgbased:base\nProtecting base N-1-0\nLeft as it is: x: its name is neither NVR nor NVR+N\n',
      dryRun: false,
    });
  });

  it('with --dry-run passes the dry run on and prints the steps and commands it would run', async () => {
    const result = {
      dryRun: true,
      steps: [step('tag', 'Tagging N-1-0 imgbased:base')],
      skipped: [],
      plan: [{ argv: ['lvchange', '--addtag', 'imgbased:base', 'onn/N-1-0'] }],
    };
    const { code, stdout, dryRun } = await adopt(result, ['--dry-run']);
    expect([code, dryRun]).toEqual([0, true]);
    expect(stdout).toBe(
      'Dry run: nothing was changed. These steps would run:\n  Tagging N-1-0 imgbased:base\n  $ lvchange --addtag imgbased:base onn/N-1-0\n',
    );
  });

  it('says when there is nothing to adopt', async () => {
    const { stdout } = await adopt({ dryRun: false, steps: [], skipped: [], plan: [] }, ['--json']);
    expect(JSON.parse(stdout)).toMatchObject({ verb: 'layout --adopt', data: { steps: [] } });
    expect((await adopt({ dryRun: false, steps: [], skipped: [], plan: [] }, [])).stdout).toBe(
      'Nothing to adopt: the layout follows imgbased’s conventions\n',
    );
  });
});
