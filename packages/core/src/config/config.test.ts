import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../errors/index.js';
import { defaultConfig, resolveConfig } from './config.js';

describe('resolveConfig', () => {
  it('gives the original defaults with no files', () => {
    expect(defaultConfig()).toEqual({
      core: { debug: false, experimental: false, lock_dir: '/run/imgbased' },
      update: { images_to_keep: 2 },
      bootloader: { plugins: ['auto'], boot_dir: '/boot', esp_dir: 'auto', grub_mode: 'auto', boot_counting_tries: 0 },
    });
  });

  it('lets later files override earlier ones, key by key', () => {
    const config = resolveConfig([
      {
        path: '/usr/lib/imgbased/imgbased.conf',
        sections: { core: { debug: 'yes' }, update: { images_to_keep: '3' } },
      },
      { path: '/etc/imgbased.conf', sections: { update: { images_to_keep: '5' } } },
    ]);
    expect(config.core.debug).toBe(true);
    expect(config.update.images_to_keep).toBe(5);
  });

  it('names the file and key of an unknown setting', () => {
    expect(() => resolveConfig([{ path: '/etc/imgbased.conf', sections: { update: { image_to_keep: '3' } } }])).toThrow(
      '/etc/imgbased.conf: update.image_to_keep: unknown setting',
    );
  });

  it('names the file and key of a bad value', () => {
    const attempt = () =>
      resolveConfig([{ path: '/etc/imgbased.conf.d/10-x.conf', sections: { update: { images_to_keep: 'two' } } }]);
    expect(attempt).toThrow(ConfigInvalidError);
    expect(attempt).toThrow(/^\/etc\/imgbased.conf.d\/10-x.conf: update.images_to_keep: /);
  });

  it('rejects an unknown section', () => {
    expect(() => resolveConfig([{ path: '/etc/imgbased.conf', sections: { cor: { debug: 'true' } } }])).toThrow(
      '/etc/imgbased.conf: cor: unknown setting',
    );
  });

  it('splits bootloader plugin lists', () => {
    expect(
      resolveConfig([{ path: 'x', sections: { bootloader: { plugins: 'grub-bls, extlinux' } } }]).bootloader.plugins,
    ).toEqual(['grub-bls', 'extlinux']);
  });
});

describe('[bootloader] settings', () => {
  it('reads paths, the grub mode and boot counting', () => {
    const config = resolveConfig([
      {
        path: '/etc/imgbased.conf',
        sections: {
          bootloader: { plugins: 'grub-bls, extlinux', boot_dir: '/boot', grub_mode: 'menu', boot_counting_tries: '3' },
        },
      },
    ]);
    expect(config.bootloader).toMatchObject({
      plugins: ['grub-bls', 'extlinux'],
      grub_mode: 'menu',
      boot_counting_tries: 3,
    });
  });

  it.each([
    ['grub_mode', 'bls'],
    ['boot_dir', 'boot'],
    ['esp_dir', 'efi'],
    ['boot_counting_tries', '12'],
  ])('refuses %s = %s, naming the file and key', (key, value) => {
    expect(() => resolveConfig([{ path: '/etc/imgbased.conf', sections: { bootloader: { [key]: value } } }])).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        details: expect.objectContaining({ key: `bootloader.${key}` }),
      }),
    );
  });
});
