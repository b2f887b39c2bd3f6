import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../errors.js';
import { defaultConfig, resolveConfig } from './config.js';

describe('resolveConfig', () => {
  it('gives the original defaults with no files', () => {
    expect(defaultConfig()).toEqual({
      core: { debug: false, experimental: false, lock_dir: '/run/imgbased' },
      update: { images_to_keep: 2 },
      bootloader: { plugins: ['auto'] },
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
