import { describe, expect, it } from 'vitest';
import { type ImageTree, listingTree, readTreeFile } from './image-tree.js';
import { parseTarListing } from './listings.js';

function tree(lines: string[], contents: Record<string, string>): ImageTree & { reads: string[] } {
  const listing = parseTarListing(lines.join('\n'));
  const reads: string[] = [];
  const base = listingTree(listing, async (entry) => {
    const member = entry.type === 'hardlink' ? entry.target! : entry.member;
    reads.push(member);
    return contents[member] ?? '';
  });
  return Object.assign(base, { reads });
}

const D = 'drwxr-xr-x 0/0 0 2026-01-01 00:00';
const F = '-rw-r--r-- 0/0 5 2026-01-01 00:00';
const L = 'lrwxrwxrwx 0/0 0 2026-01-01 00:00';
const H = 'hrw-r--r-- 0/0 0 2026-01-01 00:00';

describe('readTreeFile', () => {
  const image = tree(
    [
      `${D} ./`,
      `${D} ./etc/`,
      `${D} ./usr/`,
      `${D} ./usr/lib/`,
      `${F} ./usr/lib/os-release`,
      `${L} ./etc/os-release -> ../usr/lib/os-release`,
      `${L} ./etc/abs -> /usr/lib/os-release`,
      `${L} ./etc/escape -> ../../../../usr/lib/os-release`,
      `${L} ./lib -> usr/lib`,
      `${L} ./etc/loop -> loop`,
      `${L} ./etc/dangling -> /nowhere`,
      `${H} ./etc/hard link to ./usr/lib/os-release`,
    ],
    { './usr/lib/os-release': 'ID=x\n' },
  );

  it('follows relative and absolute links, in the last and in earlier components', async () => {
    expect(await readTreeFile(image, '/etc/os-release')).toBe('ID=x\n');
    expect(await readTreeFile(image, '/etc/abs')).toBe('ID=x\n');
    expect(await readTreeFile(image, '/lib/os-release')).toBe('ID=x\n');
  });

  it('keeps .. inside the image, like a chroot', async () => {
    expect(await readTreeFile(image, '/etc/escape')).toBe('ID=x\n');
  });

  it('reads a tar hard link through the member it names', async () => {
    expect(await readTreeFile(image, '/etc/hard')).toBe('ID=x\n');
    expect(image.reads.at(-1)).toBe('./usr/lib/os-release');
  });

  it('gives nothing for missing paths, loops, dangling links, directories and files used as directories', async () => {
    expect(await readTreeFile(image, '/etc/missing')).toBeUndefined();
    expect(await readTreeFile(image, '/etc/loop')).toBeUndefined();
    expect(await readTreeFile(image, '/etc/dangling')).toBeUndefined();
    expect(await readTreeFile(image, '/usr/lib')).toBeUndefined();
    expect(await readTreeFile(image, '/usr/lib/os-release/x')).toBeUndefined();
  });
});
