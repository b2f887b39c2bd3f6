import { describe, expect, it } from 'vitest';
import { foreignGrubEntries, parseGrubMenu, renderGrubMenu } from './grub-menu.js';

const GRUB_CFG = `set default=0\nmenuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-1234' {\n\tlinux /vmlinuz-6.1 root=UUID=1234 ro quiet\n\tinitrd /initrd.img-6.1\n}\nsource \${prefix}/imgbased.cfg\n`;

describe('the grub menu file', () => {
  const entry = {
    id: 'imgbased-B-1-0-layer1',
    title: "B-1-0+1 (6.1.0) it's",
    version: '6.1.0',
    kernel: '/B-1-0+1/vmlinuz-6.1.0',
    initrd: '/B-1-0+1/initrd.img-6.1.0',
    options: ['quiet', 'a=$b', 'img.bootid=B-1-0+1'],
  };

  it('round-trips imgbased’s entries, quoting what grub would expand', () => {
    const text = renderGrubMenu([entry]);
    expect(text).toContain("\tlinux /B-1-0+1/vmlinuz-6.1.0 quiet 'a=$b' img.bootid=B-1-0+1\n");
    expect(parseGrubMenu(text)).toEqual([{ ...entry, layer: 'B-1-0+1' }]);
    expect(renderGrubMenu(parseGrubMenu(text))).toBe(text);
  });

  it('lists a grub.cfg’s own entries as foreign', () => {
    expect(foreignGrubEntries(GRUB_CFG)).toEqual([
      {
        id: 'gnulinux-simple-1234',
        title: 'Debian GNU/Linux',
        version: '',
        kernel: '/vmlinuz-6.1',
        initrd: '/initrd.img-6.1',
        options: ['root=UUID=1234', 'ro', 'quiet'],
        layer: undefined,
      },
    ]);
  });

  it.each([
    ['not ours', 'menuentry x --id y {\n linux /k\n}\n'],
    ['unclosed', `${renderGrubMenu([entry]).slice(0, -3)}\n`],
    ['binary', `${renderGrubMenu([entry])}\0`],
  ])('refuses a corrupted menu: %s', (_what, text) => {
    expect(() => parseGrubMenu(text)).toThrow();
  });
});
