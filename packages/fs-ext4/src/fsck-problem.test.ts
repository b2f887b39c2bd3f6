import { describe, expect, it } from 'vitest';
import { firstProblem, fsckProblem } from './fsck-problem.js';

describe('firstProblem', () => {
  it('gives e2fsck -n’s first complaint without its question', () => {
    const stdout =
      'Resize inode not valid.  Recreate? no\n\nPass 1: Checking inodes, blocks, and sizes\nInode 7 has illegal block(s).  Clear? no\n';
    expect(firstProblem(stdout)).toBe('Resize inode not valid.');
    expect(firstProblem('Pass 1: Checking inodes\nBlock bitmap differences:  -(9--12)\nFix? no\n')).toBe(
      'Block bitmap differences:  -(9--12)',
    );
    expect(firstProblem('\nPass 1: x\n')).toBeUndefined();
  });
});

describe('fsckProblem', () => {
  it('falls back on stderr’s last line, then on the exit code', () => {
    expect(
      fsckProblem({ stdout: 'Pass 1: x\nInode 7 has illegal block(s).  Clear? no\n', stderr: '', exitCode: 4 }),
    ).toBe('Inode 7 has illegal block(s).');
    expect(fsckProblem({ stdout: '', stderr: 'e2fsck 1.47.0\nBad magic number in super-block\n', exitCode: 8 })).toBe(
      'Bad magic number in super-block',
    );
    expect(fsckProblem({ stdout: '', stderr: '', exitCode: 8 })).toBe('exit code 8');
  });
});
