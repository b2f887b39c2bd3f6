import { describe, expect, it } from 'vitest';
import { parseItemized } from './itemize.js';

describe('parseItemized', () => {
  it('lists changes with their flags and deletions apart, absolute, names as bytes, times alone left out', () => {
    const out = [
      'cd+++++++++ root/bin/',
      '>f+++++++++ root/bin/suid',
      '.d..t...... etc/',
      '.f..t...... etc/touched',
      '.f...p..... etc/chmod.conf',
      '.f........x etc/xattr.conf',
      'cL+++++++++ etc/localtime',
      'hf+++++++++ etc/hl-b',
      '>f+++++++++ etc/caf\\#303\\#251',
      '>f+++++++++ etc/caf\\#351',
      '*deleting   etc/todelete.conf',
      '*deleting   etc/old dir/',
      '*deleting   etc/odd\\#377',
      '',
    ].join('\n');
    const { changed, deleted } = parseItemized(out);
    expect([...changed]).toEqual([
      ['/etc/café', '>f+++++++++'],
      ['/etc/caf\udce9', '>f+++++++++'],
      ['/etc/chmod.conf', '.f...p.....'],
      ['/etc/hl-b', 'hf+++++++++'],
      ['/etc/localtime', 'cL+++++++++'],
      ['/etc/xattr.conf', '.f........x'],
      ['/root/bin', 'cd+++++++++'],
      ['/root/bin/suid', '>f+++++++++'],
    ]);
    expect(deleted).toEqual(['/etc/odd\udcff', '/etc/old dir', '/etc/todelete.conf']);
  });
});
