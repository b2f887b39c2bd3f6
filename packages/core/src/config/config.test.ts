import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { ConfigInvalidError } from '../errors/index.js';
import { defaultConfig, resolveConfig } from './config.js';
import { resolvePluginSettings } from './plugin-settings.js';

describe('resolveConfig', () => {
  it('gives the original defaults with no files', () => {
    expect(defaultConfig()).toEqual({
      core: { debug: false, lock_dir: '/run/imgbased', plugin_dir: '/usr/lib/imgbased/plugins' },
      update: { images_to_keep: 2 },
      bootloader: { plugins: ['auto'], boot_dir: '/boot' },
      persistence: { plugins: ['tar-diff'], on_conflict: 'keep-admin' },
      daemon: {
        image_dir: '/var/lib/imgbased/images',
        max_jobs: 4,
        max_event_streams: 16,
        connection_timeout: 60,
        request_timeout: 30,
      },
      check: {
        pool_data_warn: 80,
        pool_data_fail: 95,
        pool_metadata_warn: 70,
        pool_metadata_fail: 90,
        separate_paths: [],
        autoextend: true,
      },
      trial: { enabled: true, tries: 3, on_failure: 'reboot', timeout: 300, units: [] },
      pluginSections: [],
    });
  });

  it('reads [trial]: tries 1 to 9, on_failure reboot or stay', () => {
    const file = (trial: Record<string, string>) => [{ path: '/etc/imgbased.conf', sections: { trial } }];
    const config = resolveConfig(
      file({ tries: '5', on_failure: 'stay', enabled: 'yes', units: 'a.service b.service' }),
    );
    expect(config.trial).toEqual({
      enabled: true,
      tries: 5,
      on_failure: 'stay',
      timeout: 300,
      units: ['a.service', 'b.service'],
    });
    for (const bad of [{ tries: '10' }, { tries: '0' }, { on_failure: 'halt' }] as Record<string, string>[]) {
      expect(() => resolveConfig(file(bad))).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
    }
  });

  it('reads [check]: percent thresholds (1 to 100), separate paths as a list', () => {
    const config = resolveConfig([
      { path: '/etc/imgbased.conf', sections: { check: { pool_data_warn: '60', separate_paths: '/var, /var/log' } } },
    ]);
    expect([config.check.pool_data_warn, config.check.separate_paths]).toEqual([60, ['/var', '/var/log']]);
    expect(() =>
      resolveConfig([{ path: '/etc/imgbased.conf', sections: { check: { pool_data_fail: '101' } } }]),
    ).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
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
  it('reads the plugin list and the boot partition', () => {
    const config = resolveConfig([
      { path: '/etc/imgbased.conf', sections: { bootloader: { plugins: 'grub-bls, extlinux', boot_dir: '/boot' } } },
    ]);
    expect(config.bootloader).toEqual({ plugins: ['grub-bls', 'extlinux'], boot_dir: '/boot' });
  });

  it.each([
    ['grub_mode', 'menu', 'moved to [bootloader.grub-bls] mode'],
    ['esp_dir', '/efi', 'moved to [bootloader.systemd-boot] esp_dir'],
    ['boot_counting_tries', '3', 'moved to [bootloader.systemd-boot] boot_counting_tries'],
  ])('says where %s moved', (key, value, reason) => {
    expect(() => resolveConfig([{ path: '/etc/imgbased.conf', sections: { bootloader: { [key]: value } } }])).toThrow(
      `/etc/imgbased.conf: bootloader.${key}: ${reason}`,
    );
  });

  it('refuses a relative boot_dir, naming the file and key', () => {
    expect(() =>
      resolveConfig([{ path: '/etc/imgbased.conf', sections: { bootloader: { boot_dir: 'boot' } } }]),
    ).toThrow(
      expect.objectContaining({
        code: 'E_CONFIG_INVALID',
        details: expect.objectContaining({ key: 'bootloader.boot_dir' }),
      }),
    );
  });
});

describe('[persistence] and plugin sections', () => {
  it('reads the persistence plugins and the conflict policy', () => {
    const config = resolveConfig([
      { path: 'a', sections: { persistence: { plugins: 'rsync tar-diff', on_conflict: 'fail' } } },
    ]);
    expect(config.persistence).toEqual({ plugins: ['rsync', 'tar-diff'], on_conflict: 'fail' });
  });

  it('refuses an unknown conflict policy', () => {
    expect(() => resolveConfig([{ path: 'a', sections: { persistence: { on_conflict: 'merge' } } }])).toThrow(
      /^a: persistence.on_conflict: /,
    );
  });

  it('sets plugin sections apart, with the file each came from', () => {
    const config = resolveConfig([
      { path: 'a', sections: { bootloader: { plugins: 'grub-bls', 'grub-bls': { mode: 'menu' } } } },
      { path: 'b', sections: { persistence: { 'tar-diff': { paths: '/etc' } } } },
    ]);
    expect(config.bootloader.plugins).toEqual(['grub-bls']);
    expect(config.pluginSections).toEqual([
      { kind: 'bootloader', name: 'grub-bls', file: 'a', values: { mode: 'menu' } },
      { kind: 'persistence', name: 'tar-diff', file: 'b', values: { paths: '/etc' } },
    ]);
  });

  it('refuses a section that is not a plugin name', () => {
    expect(() => resolveConfig([{ path: 'a', sections: { bootloader: { Grub_BLS: { mode: 'menu' } } } }])).toThrow(
      'a: bootloader.Grub_BLS: not a plugin name',
    );
  });
});

describe('resolvePluginSettings', () => {
  const schema = z.strictObject({
    mode: z._default(z.enum(['auto', 'menu']), 'auto'),
    tries: z._default(z.string(), '0'),
  });
  const plugin = { kind: 'bootloader' as const, name: 'grub-bls', settings: schema };
  const section = (file: string, values: Record<string, unknown>) =>
    ({ kind: 'bootloader', name: 'grub-bls', file, values }) as const;

  it('gives the defaults when no file has a section', async () => {
    expect(await resolvePluginSettings(plugin, [])).toEqual({ mode: 'auto', tries: '0' });
  });

  it('merges the files in order, later keys winning', async () => {
    const settings = await resolvePluginSettings(plugin, [
      section('a', { mode: 'menu', tries: '2' }),
      section('b', { tries: '3' }),
      { kind: 'bootloader', name: 'extlinux', file: 'c', values: { mode: 'x' } },
    ]);
    expect(settings).toEqual({ mode: 'menu', tries: '3' });
  });

  it('names the file and the key of a bad value', async () => {
    await expect(
      resolvePluginSettings(plugin, [section('a', {}), section('/etc/x.conf', { mode: 'bls' })]),
    ).rejects.toThrow(/^\/etc\/x.conf: bootloader.grub-bls.mode: /);
  });

  it('names the file and the key of an unknown setting', async () => {
    await expect(resolvePluginSettings(plugin, [section('/etc/y.conf', { grub_mode: 'menu' })])).rejects.toThrow(
      '/etc/y.conf: bootloader.grub-bls.grub_mode: unknown setting',
    );
  });

  it('refuses a section for a plugin that takes no settings', async () => {
    await expect(
      resolvePluginSettings({ kind: 'bootloader', name: 'grub-bls' }, [section('/etc/z.conf', { mode: 'menu' })]),
    ).rejects.toThrow("/etc/z.conf: bootloader.grub-bls: plugin 'grub-bls' takes no settings");
  });
});
