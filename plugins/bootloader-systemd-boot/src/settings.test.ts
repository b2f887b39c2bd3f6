import { describe, expect, it } from 'vitest';
import { defaultOf, withDefault } from './loader-conf.js';
import { systemdBootSettings } from './settings.js';

describe('[bootloader.systemd-boot] settings', () => {
  it('defaults to auto and no boot counting, and takes INI strings', () => {
    expect(systemdBootSettings.parse({})).toEqual({ esp_dir: 'auto', boot_counting_tries: 0 });
    expect(systemdBootSettings.parse({ esp_dir: '/boot/efi', boot_counting_tries: '3' })).toEqual({
      esp_dir: '/boot/efi',
      boot_counting_tries: 3,
    });
  });

  it.each([
    ['a relative esp_dir', { esp_dir: 'efi' }],
    ['more than 9 tries', { boot_counting_tries: '10' }],
    ['tries that are no number', { boot_counting_tries: 'three' }],
    ['an unknown key', { boot_counting: '3' }],
  ])('refuses %s', (_what, section) => {
    expect(systemdBootSettings.safeParse(section).success).toBe(false);
  });
});

describe('loader.conf', () => {
  it('keeps every other line when setting the default', () => {
    expect(withDefault('timeout 3\ndefault old.conf\neditor no\n', 'new')).toBe(
      'timeout 3\neditor no\ndefault new.conf\n',
    );
    expect(withDefault('', 'new')).toBe('default new.conf\n');
    expect(defaultOf('default a.conf\n#x\ndefault b.conf\n')).toBe('b');
  });
});
