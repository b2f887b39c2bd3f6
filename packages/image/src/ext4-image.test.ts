import { describe, expect, it } from 'vitest';
import { firstProblem } from './ext4-image.js';

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
