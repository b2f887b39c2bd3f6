import { describe, expect, it } from 'vitest';
import type { BootEntry, Bootloader, DesiredBootEntry } from '../contracts/bootloader.js';
import { MemoryBootFiles } from '../testing/memory-boot-files.js';
import {
  BlsSyntaxError,
  blsFileName,
  blsToBootEntry,
  ConfiguredBootloaders,
  composeKernelArgs,
  entryIdForLayer,
  entryTitle,
  findKernel,
  installEntryFiles,
  layerOfOptions,
  parseBlsEntry,
  parseBlsFileName,
  pruneEntryFiles,
  renderBlsEntry,
  replaceFileDurably,
  splitKernelArgs,
} from './index.js';

describe('entry ids, titles and kernel arguments', () => {
  it('derives ids no bootloader mistakes for a boot counter', () => {
    expect(entryIdForLayer('Node-4.5-0.20220307.0+1')).toBe('imgbased-Node-4.5-0.20220307.0-layer1');
    expect(parseBlsFileName(`${entryIdForLayer('Base-1-0+12')}.conf`)).toEqual({
      id: 'imgbased-Base-1-0-layer12',
      tries: undefined,
    });
    expect(entryTitle('Base-1-0+1', '6.1.0-26-amd64')).toBe('Base-1-0+1 (6.1.0-26-amd64)');
  });

  it('composes arguments as the original: own ones, then LVM root, then img.bootid', () => {
    const args = composeKernelArgs({
      layerArgs: ['quiet', 'root=/dev/onn/old', 'crashkernel=auto', 'img.bootid=old+1', 'rd.lvm.lv=onn/old'],
      vg: 'onn',
      layer: 'Base-1-0+2',
    });
    expect(args).toEqual([
      'quiet',
      'crashkernel=auto',
      'rd.lvm.lv=onn/Base-1-0+2',
      'root=/dev/onn/Base-1-0+2',
      'rootflags=discard',
      'img.bootid=Base-1-0+2',
    ]);
    expect(layerOfOptions(args)).toBe('Base-1-0+2');
  });

  it('applies an admin’s additions and removals, but never drops img.bootid', () => {
    const args = composeKernelArgs({
      layerArgs: ['quiet', 'console=tty0', 'console=ttyS0'],
      vg: 'vg',
      layer: 'B-1-0+1',
      add: ['crashkernel=256M', 'console=ttyS1', 'img.bootid=evil'],
      remove: ['quiet', 'rootflags', 'img.bootid'],
    });
    expect(args).toEqual([
      'rd.lvm.lv=vg/B-1-0+1',
      'root=/dev/vg/B-1-0+1',
      'img.bootid=B-1-0+1',
      'crashkernel=256M',
      'console=ttyS1',
    ]);
  });

  it('splits a command line keeping quoted values', () => {
    expect(splitKernelArgs(' a  b="c d" e ')).toEqual(['a', 'b="c d"', 'e']);
  });

  it('finds the newest kernel and its initrd in a /boot listing', () => {
    expect(
      findKernel(['vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.1.0-10-amd64', 'initrd.img-6.1.0-10-amd64', 'config-x']),
    ).toEqual({ kernel: 'vmlinuz-6.1.0-10-amd64', initrd: 'initrd.img-6.1.0-10-amd64', version: '6.1.0-10-amd64' });
    expect(findKernel(['grub'])).toBeUndefined();
  });
});

describe('BLS Type #1', () => {
  const entry = {
    title: 'Base-1-0+1 (6.1.0)',
    version: '6.1.0',
    kernel: '/Base-1-0+1/vmlinuz-6.1.0',
    initrd: '/Base-1-0+1/initrd.img-6.1.0',
    options: ['ro', 'img.bootid=Base-1-0+1'],
  };

  it('round-trips imgbased’s entries', () => {
    const text = renderBlsEntry(entry);
    const parsed = blsToBootEntry(parseBlsEntry('imgbased-Base-1-0-layer1.conf', text));
    expect(parsed).toEqual({ id: 'imgbased-Base-1-0-layer1', layer: 'Base-1-0+1', ...entry });
    expect(renderBlsEntry(parsed)).toBe(text);
  });

  it('reads foreign entries with counters, repeated keys and unknown keys', () => {
    const file = parseBlsEntry(
      'fedora-6.5+3-1.conf',
      '# comment\ntitle Fedora\nversion 6.5\nlinux /vmlinuz\ninitrd /ucode.img\ninitrd /initrd\noptions a b\noptions c\nsort-key fedora\ngrub_users $grub_users\n',
    );
    expect(blsToBootEntry(file)).toMatchObject({
      id: 'fedora-6.5',
      tries: { left: 3, done: 1 },
      initrd: '/ucode.img',
      options: ['a', 'b', 'c'],
      layer: undefined,
    });
    expect(file.fields).toContainEqual(['grub_users', '$grub_users']);
  });

  it('names counted files as systemd-boot does, keeping digit width', () => {
    expect(blsFileName('x', { left: 3, done: 0 })).toBe('x+3.conf');
    expect(blsFileName('x', { left: 9, done: 1 }, 2)).toBe('x+09-01.conf');
    expect(parseBlsFileName('x+0-5.conf')).toEqual({ id: 'x', tries: { left: 0, done: 5 } });
    expect(parseBlsFileName('.hidden.conf')).toBeUndefined();
    expect(parseBlsFileName('x.txt')).toBeUndefined();
  });

  it.each([
    ['binary data', 'title x\nlinux /k\n\0\0'],
    ['no kernel', 'title x\noptions a\n'],
    ['a line that is no key', 'title x\nlinux /k\n=== broken\n'],
  ])('refuses a corrupted entry: %s', (_what, text) => {
    expect(() => parseBlsEntry('a.conf', text)).toThrow(BlsSyntaxError);
  });
});

describe('crash-safe file steps', () => {
  it('replaces a file through a temporary one', async () => {
    const ops = new MemoryBootFiles();
    ops.files.set('/b/x.conf', 'old');
    await replaceFileDurably(ops, '/b/x.conf', 'new');
    expect(ops.files.get('/b/x.conf')).toBe('new');
    expect([...ops.files.keys()]).toEqual(['/b/x.conf']);
  });

  it('leaves the old or the new file, whole, wherever it is cut', async () => {
    for (let cut = 1; cut <= 4; cut++) {
      const ops = new MemoryBootFiles();
      ops.files.set('/b/x.conf', 'old');
      ops.crashAt = cut;
      await replaceFileDurably(ops, '/b/x.conf', 'new').catch(() => undefined);
      expect(['old', 'new']).toContain(ops.files.get('/b/x.conf'));
    }
  });

  it('copies new kernels into /<layer>/, reuses installed ones, prunes only imgbased’s directories', async () => {
    const ops = new MemoryBootFiles();
    ops.files.set('/src/vmlinuz-6', 'K');
    ops.files.set('/src/initrd.img-6', 'I');
    ops.files.set('/boot/A+1/vmlinuz-6', 'K1');
    ops.files.set('/boot/foreign/vmlinuz', 'F');
    const installed: BootEntry[] = [
      {
        id: 'imgbased-A-layer1',
        title: 'A+1 (6)',
        version: '6',
        kernel: '/A+1/vmlinuz-6',
        initrd: undefined,
        options: ['img.bootid=A+1'],
        layer: 'A+1',
      },
      {
        ...{ id: 'f', title: 'F', version: '', kernel: '/foreign/vmlinuz', initrd: undefined, options: [] },
        layer: undefined,
      },
    ];
    const desired: DesiredBootEntry[] = [
      {
        layer: 'A+2',
        title: 'A+2 (6)',
        version: '6',
        options: [],
        files: { kernel: '/src/vmlinuz-6', initrd: '/src/initrd.img-6' },
      },
      {
        layer: 'A+3',
        title: 'A+3 (6)',
        version: '6',
        options: [],
        files: { onBootPartition: { kernel: '/A+1/vmlinuz-6' } },
      },
    ];
    expect(await installEntryFiles(ops, '/boot', desired, installed)).toEqual(['A+2', 'A+3']);
    expect(ops.files.get('/boot/A+2/initrd.img-6')).toBe('I');
    expect(ops.files.get('/boot/A+3/vmlinuz-6')).toBe('K1');
    await pruneEntryFiles(ops, '/boot', installed, desired);
    expect(ops.files.has('/boot/A+1/vmlinuz-6')).toBe(false);
    expect(ops.files.get('/boot/foreign/vmlinuz')).toBe('F');
  });
});

describe('choosing the bootloader', () => {
  const plugin = (name: string, present: boolean) => ({ name, detect: async () => present }) as unknown as Bootloader;

  it('auto takes the first present one, or none', async () => {
    const offered = [plugin('extlinux', false), plugin('grub-bls', true), plugin('systemd-boot', true)];
    expect((await new ConfiguredBootloaders(offered, ['auto']).select())?.name).toBe('grub-bls');
    expect(await new ConfiguredBootloaders([plugin('extlinux', false)], ['auto']).select()).toBeUndefined();
    expect(await new ConfiguredBootloaders(offered, ['none']).select()).toBeUndefined();
  });

  it('named plugins must be present', async () => {
    const offered = [plugin('extlinux', false), plugin('systemd-boot', true)];
    expect((await new ConfiguredBootloaders(offered, ['extlinux', 'systemd-boot']).select())?.name).toBe(
      'systemd-boot',
    );
    await expect(new ConfiguredBootloaders(offered, ['extlinux']).select()).rejects.toMatchObject({
      code: 'E_NO_BOOTLOADER',
    });
  });
});
