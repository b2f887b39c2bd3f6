// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are shell code, whose ${…} is the shell’s
// The generated bash completion, run by a real bash with a stand-in `imgbase` on PATH that prints a
// layout's names the way `imgbase layout --layers/--bases` does.
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDocs } from './index.js';

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'imgbase-completion-'));
  script = path.join(dir, 'imgbase.bash');
  await writeFile(script, (await generateDocs())['imgbase.bash']!);
  const stub = [
    '#!/bin/sh',
    'case "$*" in',
    '"layout --layers") printf "Base-1-0+1\\nBase-1-0+2\\n" ;;',
    '"layout --bases") echo Base-1-0 ;;',
    'esac',
  ];
  await writeFile(path.join(dir, 'imgbase'), `${stub.join('\n')}\n`);
  await chmod(path.join(dir, 'imgbase'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What bash offers for the last word of `words` (the word being completed, possibly empty). */
function complete(...words: string[]): string[] {
  const program = [
    'source "$0"',
    'COMP_WORDS=("${@}")',
    'COMP_CWORD=$((${#COMP_WORDS[@]} - 1))',
    '_imgbase',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const output = execFileSync('bash', ['-c', program, script, ...words], {
    encoding: 'utf8',
    env: { PATH: `${dir}:/usr/bin:/bin` },
  });
  return output.split('\n').filter(Boolean);
}

describe('bash completion of imgbase', () => {
  it('offers the commands, then each command’s flags', () => {
    expect(complete('imgbase', '')).toEqual(expect.arrayContaining(['layout', 'base', 'layer', 'boot', 'w']));
    expect(complete('imgbase', 'layer', '--')).toEqual(
      expect.arrayContaining(['--add', '--latest', '--current', '--volume-path', '--json', '--dry-run']),
    );
  });

  it('offers the real layout’s names where a layer or base is expected', () => {
    expect(complete('imgbase', 'layer', '--volume-path', '')).toEqual(['Base-1-0', 'Base-1-0+1', 'Base-1-0+2']);
    expect(complete('imgbase', '--debug', 'boot', '--set-default', 'Base-1-0+')).toEqual(['Base-1-0+1', 'Base-1-0+2']);
    expect(complete('imgbase', 'base', '--remove', '')).toEqual(['Base-1-0']);
  });

  it('offers a flag’s choices', () => {
    expect(complete('imgbase', 'layout', '--units', '')).toEqual(['b', 'k', 'm', 'g', 't', 'p']);
  });
});
