/**
 * Bad configuration files, as data (issue 14's "Bad input, counted"): each case writes files under a
 * temporary root and the configuration must be refused with E_CONFIG_INVALID before anything runs.
 * A file's content is text, bytes, or `{ directory: true }` (a directory where a file belongs).
 */
export type ConfigContent = string | Uint8Array | { readonly directory: true };

export interface BadConfigCase {
  readonly name: string;
  readonly files: Readonly<Record<string, ConfigContent>>;
}

const ETC = 'etc/imgbased.conf';
const DROP_IN = 'etc/imgbased.conf.d/50-local.conf';
const VENDOR = 'usr/lib/imgbased/imgbased.conf';

/** One bad `key = value` in `[section]` of /etc/imgbased.conf. */
const setting = (section: string, key: string, value: string): BadConfigCase => ({
  name: `[${section}] ${key} = ${JSON.stringify(value).slice(0, 40)}`,
  files: { [ETC]: `[${section}]\n${key} = ${value}\n` },
});

const BAD_VALUES: readonly [string, string, readonly string[]][] = [
  ['core', 'debug', ['maybe', '2', 'True!', '']],
  ['core', 'lock_dir', ['run/imgbased', '~/lock', '']],
  ['core', 'plugin_dir', ['plugins', '.']],
  ['update', 'images_to_keep', ['0', '-1', 'many', '1.5', '1e3', '']],
  ['bootloader', 'boot_dir', ['boot', '']],
  ['persistence', 'on_conflict', ['overwrite', 'KEEP-ADMIN', '']],
  ['daemon', 'image_dir', ['images']],
  ['daemon', 'max_jobs', ['0', 'lots']],
  ['daemon', 'max_event_streams', ['-3']],
  ['daemon', 'connection_timeout', ['1m']],
  ['daemon', 'request_timeout', ['0']],
  ['check', 'pool_data_warn', ['0', '101', '80%']],
  ['check', 'pool_metadata_fail', ['1000']],
  ['check', 'autoextend', ['sometimes']],
  ['trial', 'enabled', ['perhaps']],
  ['trial', 'tries', ['0', '10', 'three']],
  ['trial', 'on_failure', ['panic']],
  ['trial', 'timeout', ['forever']],
  ['bootloader.grub-bls', 'mode', ['bls', '']],
  ['bootloader.grub-bls', 'editenv', ['grub editenv', 'rel/ative path']],
  ['bootloader.systemd-boot', 'esp_dir', ['efi', '']],
  ['bootloader.systemd-boot', 'boot_counting_tries', ['10', '-1', 'x']],
  ['persistence.tar-diff', 'paths', ['etc', '/etc ../root']],
  ['persistence.tar-diff', 'delta_dir', ['relative']],
  ['persistence.rsync', 'paths', ['relative/path']],
  ['persistence.rsync', 'excludes', ['no-slash']],
];

export const BAD_CONFIG_CASES: readonly BadConfigCase[] = [
  ...BAD_VALUES.flatMap(([section, key, values]) => values.map((value) => setting(section, key, value))),
  // Unknown and moved keys and sections.
  setting('core', 'debgu', 'true'),
  setting('update', 'images_to_kep', '3'),
  setting('core', 'experimental', 'yes'),
  setting('bootloader', 'grub_mode', 'blscfg'),
  setting('bootloader', 'esp_dir', '/efi'),
  setting('bootloader', 'boot_counting_tries', '3'),
  setting('nonsense', 'key', 'value'),
  setting('bootloader.grub-bls', 'colour', 'blue'),
  setting('bootloader.systemd-boot', 'esp', '/efi'),
  setting('persistence.tar-diff', 'compress', 'yes'),
  setting('bootloader.extlinux', 'anything', 'x'),
  setting('bootloader.no-such-plugin', 'mode', 'x'),
  setting('persistence.no-such-plugin', 'paths', '/etc'),
  // Garbage files.
  { name: 'a key outside any section', files: { [ETC]: 'debug = true\n' } },
  { name: 'a value in a drop-in', files: { [DROP_IN]: '[update]\nimages_to_keep = none\n' } },
  { name: 'a vendor file with garbage', files: { [VENDOR]: '[trial]\ntries = 99\n' } },
  { name: 'random bytes', files: { [ETC]: randomBytes(4096, 1) } },
  { name: 'random bytes in a drop-in', files: { [DROP_IN]: randomBytes(512, 2) } },
  { name: 'NUL bytes', files: { [ETC]: new Uint8Array(1024) } },
  { name: 'a huge file', files: { [ETC]: `[core]\n${'junk_key = x\n'.repeat(200_000)}` } },
  {
    name: 'an ELF binary',
    files: { [ETC]: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...randomBytes(200, 3)]) },
  },
  { name: 'JSON instead of INI', files: { [ETC]: '{"core": {"debug": true}}\n' } },
  { name: 'YAML instead of INI', files: { [ETC]: 'core:\n  debug: true\n' } },
  {
    name: 'a repeated key with a bad last value',
    files: { [ETC]: '[update]\nimages_to_keep = 2\nimages_to_keep = x\n' },
  },
  { name: 'an array key', files: { [ETC]: '[update]\nimages_to_keep[] = 2\n' } },
  { name: 'the configuration is a directory', files: { [ETC]: { directory: true } } },
  { name: 'the vendor configuration is a directory', files: { [VENDOR]: { directory: true } } },
  { name: 'a drop-in is a directory', files: { [DROP_IN]: { directory: true } } },
];

/** Bytes from a fixed seed: the same garbage on every run. */
function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}
