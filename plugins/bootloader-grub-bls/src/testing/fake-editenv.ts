import { CommandNotFoundError } from '@imgbased/core';
import { type MemoryBootFiles, ScriptedRunner } from '@imgbased/core/testing';

const BLOCK_HEADER = '# GRUB Environment Block\n';

/** A grub environment block as grub-editenv writes it: 1024 bytes of `k=v` lines padded with '#'. */
export function environmentBlock(variables: Record<string, string>): string {
  const body = `${BLOCK_HEADER}${Object.entries(variables)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('')}`;
  return body + '#'.repeat(1024 - body.length);
}

function parseBlock(text: string): Record<string, string> | undefined {
  if (!text.startsWith(BLOCK_HEADER) || text.length !== 1024) return undefined;
  return Object.fromEntries(
    text
      .split('\n')
      .slice(1)
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/**
 * A strict runner (any other command fails the test) where `installed` behave as grub-editenv over
 * the in-memory files and the other grub-editenv names are not installed.
 */
export function fakeEditenv(files: MemoryBootFiles, installed: readonly string[] = ['grub-editenv']): ScriptedRunner {
  const runner = new ScriptedRunner({ strict: true });
  for (const name of ['grub-editenv', 'grub2-editenv', '/usr/bin/grub2-editenv']) {
    runner.on([name], () => {
      throw new CommandNotFoundError(name);
    });
  }
  for (const name of installed) {
    runner.on([name], (spec) => {
      const [, file, verb, ...rest] = spec.argv as string[];
      const path = files.target(file!);
      if (verb === 'create') {
        files.files.set(path, environmentBlock({}));
        return {};
      }
      const variables = parseBlock(files.files.get(path) ?? '');
      if (!variables) return { exitCode: 1, stderr: `${name}: error: invalid environment block.\n` };
      if (verb === 'list') {
        return {
          stdout: Object.entries(variables)
            .map(([k, v]) => `${k}=${v}\n`)
            .join(''),
        };
      }
      for (const a of rest) {
        if (verb === 'set') variables[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
        else delete variables[a];
      }
      files.files.set(path, environmentBlock(variables));
      return {};
    });
  }
  return runner;
}
