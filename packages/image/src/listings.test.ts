import { describe, expect, it } from 'vitest';
import { parseTarListing, parseUnsquashfsListing } from './listings.js';

// As unsquashfs 4.5 and GNU tar 1.34 print them (LC_ALL=C), with a device, a fifo and awkward names.
const UNSQUASHFS = `Parallel unsquashfs: Using 4 processors
7 inodes (3 blocks) to write

drwxr-xr-x 0/0                      90 2026-11-30 23:07 squashfs-root
drwxr-xr-x 0/0                      27 2026-11-30 23:07 squashfs-root/dev
crw-r--r-- 0/0                   1,  3 2026-11-30 23:07 squashfs-root/dev/null
drwxr-xr-x 0/0                      31 2026-11-30 23:07 squashfs-root/etc
lrwxrwxrwx 0/0                      21 2026-11-30 23:07 squashfs-root/etc/os-release -> ../usr/lib/os-release
prw-r--r-- 0/0                       0 2026-11-30 23:07 squashfs-root/fifo
-rw-r--r-- 0/0                       2 2026-11-30 23:07 squashfs-root/sp ace/a -> b
-rw-r--r-- 1000/1000          10485760 2026-11-30 23:07 squashfs-root/sparse
`;

const TAR = `drwxr-xr-x 0/0               0 2026-11-30 23:07 ./
drwxr-xr-x 0/0               0 2026-11-30 23:07 ./etc/
lrwxrwxrwx 0/0               0 2026-11-30 23:07 ./etc/os-release -> ../usr/lib/os-release
-rw-r--r-- 0/0            5000 2026-11-30 23:07 ./usr/lib/os-release
crw-r--r-- 0/0             1,3 2026-11-30 23:07 ./dev/null
-rw-r--r-- 0/0               3 2026-11-30 23:07 ./usr/bin/b
hrw-r--r-- 0/0               0 2026-11-30 23:07 ./usr/bin/a link to ./usr/bin/b
-rw-r--r-- 0/0               2 2026-11-30 23:07 ./sp ace/a -> b
`;

describe('parseUnsquashfsListing', () => {
  it('maps squashfs-root to / and reads types, sizes and link targets', () => {
    const { entries, dataBytes } = parseUnsquashfsListing(UNSQUASHFS);
    expect([...entries.keys()]).toEqual([
      '/',
      '/dev',
      '/dev/null',
      '/etc',
      '/etc/os-release',
      '/fifo',
      '/sp ace/a -> b',
      '/sparse',
    ]);
    expect(entries.get('/etc/os-release')).toEqual({
      type: 'link',
      size: 0,
      member: 'squashfs-root/etc/os-release',
      target: '../usr/lib/os-release',
    });
    expect(entries.get('/dev/null')).toMatchObject({ type: 'other', size: 0 });
    expect(entries.get('/sp ace/a -> b')).toMatchObject({ type: 'file', size: 2 });
    // 3 directories of a block, 2 bytes in a block, 10 MiB
    expect(dataBytes).toBe(3 * 4096 + 4096 + 10 * 1024 * 1024);
  });
});

describe('parseTarListing', () => {
  it('strips ./ and trailing slashes, and reads hard links and symlinks', () => {
    const { entries, dataBytes } = parseTarListing(TAR);
    expect(entries.get('/')).toMatchObject({ type: 'dir', member: './' });
    expect(entries.get('/etc')).toMatchObject({ type: 'dir', member: './etc/' });
    expect(entries.get('/etc/os-release')).toMatchObject({ type: 'link', target: '../usr/lib/os-release' });
    expect(entries.get('/usr/bin/a')).toEqual({
      type: 'hardlink',
      size: 0,
      member: './usr/bin/a',
      target: './usr/bin/b',
    });
    expect(entries.get('/usr/lib/os-release')).toMatchObject({
      type: 'file',
      size: 5000,
      member: './usr/lib/os-release',
    });
    expect(entries.get('/sp ace/a -> b')).toMatchObject({ type: 'file' });
    expect(dataBytes).toBe(2 * 4096 + 8192 + 4096 + 4096);
  });

  it('reads archives whose names carry no ./', () => {
    const { entries } = parseTarListing(
      'drwxr-xr-x 0/0 0 2026-11-30 23:07 etc/\n-rw-r--r-- 0/0 1 2026-11-30 23:07:59 etc/x\n',
    );
    expect([...entries.keys()]).toEqual(['/etc', '/etc/x']);
  });
});
