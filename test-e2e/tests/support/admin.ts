// Helpers of the admin verbs' e2e tests: the host state a refusal must leave as it was (read with
// lvm, find and cat), and the comparison of `imgbase layer --diff` with `diff -rq`.
import { expect } from 'vitest';
import { type StepResult, sh } from './scenario.ts';

/** lvs, /boot's files and extlinux.conf, separated by `---` lines. */
export const STATE = sh(
  [
    'lvm lvs --noheadings -o lv_name,lv_attr,lv_tags,lv_size,origin onn | sort',
    'echo ---',
    'find /boot -printf "%p %s %m\\n" | sort',
    'echo ---',
    'cat /boot/extlinux/extlinux.conf',
  ].join('; '),
);

export function stateOf(result: StepResult): { lvs: string; boot: string; extlinux: string } {
  expect(result.exitCode, result.stderr).toBe(0);
  const [lvs = '', boot = '', extlinux = ''] = result.stdout.split('---\n');
  return { lvs, boot, extlinux };
}

interface DiffData {
  added: string[];
  removed: string[];
  changed: { path: string; changes: string[] }[];
}

/** The paths of `paths` whose parent is not in it: what diff -r names (it does not descend into a new directory). */
function topmost(paths: readonly string[]): string[] {
  const set = new Set(paths);
  return paths.filter((p) => !set.has(p.slice(0, p.lastIndexOf('/')))).sort();
}

/**
 * `layer --diff A B` agrees with `diff -rq --no-dereference DIR_A DIR_B`: the same paths only in one
 * tree (topmost), the same files whose content differs, the same symlinks and type changes.
 */
export function compareWithDiffR(diff: DiffData, lines: readonly string[], dirA: string, dirB: string): void {
  const onlyIn = (dir: string) =>
    lines
      .map((l) => new RegExp(`^Only in ${dir}(/.*|): (.*)$`).exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m![1]}/${m![2]}`)
      .sort();
  const pathOf = (pattern: RegExp) =>
    lines
      .map((l) => pattern.exec(l)?.[1])
      .filter((p) => p !== undefined)
      .sort();
  const known = /^(Only in |Files |Symbolic links |File |\/mnt\/)/;
  expect(
    lines.filter((l) => l !== '' && !known.test(l)),
    'diff -r lines this test does not read',
  ).toEqual([]);
  expect(topmost(diff.removed)).toEqual(onlyIn(dirA));
  expect(topmost(diff.added)).toEqual(onlyIn(dirB));
  const changed = (kind: string) =>
    diff.changed
      .filter((c) => c.changes.includes(kind))
      .map((c) => c.path)
      .sort();
  expect(changed('content')).toEqual(pathOf(new RegExp(`^Files ${dirA}(\\S*) and ${dirB}\\S* differ$`)));
  expect(changed('link-target')).toEqual(pathOf(new RegExp(`^Symbolic links ${dirA}(\\S*) and ${dirB}\\S* differ$`)));
  expect(changed('type')).toEqual(pathOf(new RegExp(`^File ${dirA}(\\S*) is a .* while file ${dirB}\\S* is a .*$`)));
}
