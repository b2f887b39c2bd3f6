// zod/mini: the same validation at a fraction of the load time of classic zod (the CLI starts often).
import * as z from 'zod/mini';
import { ConfigInvalidError } from '../errors/index.js';

/**
 * imgbased's configuration, read as the original read it: /usr/lib/imgbased/imgbased.conf, its
 * .d/ directory, then /etc/imgbased.conf and its .d/ directory, later files overriding earlier ones.
 * Files are INI; every value arrives as a string and is validated here, so a typo is an error that
 * names the file and the key instead of a setting silently ignored.
 */

const booleanText = z.pipe(
  z.union([z.boolean(), z.enum(['true', 'false', 'yes', 'no', 'on', 'off', '1', '0'])]),
  z.transform((value) => value === true || value === 'true' || value === 'yes' || value === 'on' || value === '1'),
);

const positiveIntegerText = z.pipe(
  z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d+$/, 'expected a whole number')), z.transform(Number))]),
  z.int().check(z.minimum(1, 'must be at least 1')),
);

const listText = z.pipe(
  z.union([z.array(z.string()), z.string()]),
  z.transform((value) => (Array.isArray(value) ? value : value.split(/[\s,]+/).filter(Boolean))),
);

const percentText = z.pipe(
  z.union([z.number(), z.pipe(z.string().check(z.regex(/^\d+$/, 'expected a whole number')), z.transform(Number))]),
  z.int().check(z.minimum(1, 'must be at least 1'), z.maximum(100, 'must be at most 100')),
);

const absolutePath = z.string().check(z.startsWith('/', 'must be an absolute path'));

/** Settings that moved into a plugin's own section: naming the new place beats "unknown setting". */
const MOVED_SETTINGS: Readonly<Record<string, string>> = {
  'bootloader.grub_mode': 'moved to [bootloader.grub-bls] mode',
  'bootloader.esp_dir': 'moved to [bootloader.systemd-boot] esp_dir',
  'bootloader.boot_counting_tries': 'moved to [bootloader.systemd-boot] boot_counting_tries',
  'core.experimental': 'removed: it had no effect',
};

export const ConfigSchema = z.strictObject({
  core: z.prefault(
    z.strictObject({
      /** `imgbase` shows every step and command unless told otherwise, as with --debug. */
      debug: z._default(booleanText, false),
      lock_dir: z._default(absolutePath, '/run/imgbased'),
      /** Where plugins that did not ship with imgbased are loaded from, when the configuration names them. */
      plugin_dir: z._default(absolutePath, '/usr/lib/imgbased/plugins'),
    }),
    {},
  ),
  update: z.prefault(z.strictObject({ images_to_keep: z._default(positiveIntegerText, 2) }), {}),
  bootloader: z.prefault(
    z.strictObject({
      /** Plugins to use, in order of preference; `auto` takes the first one whose bootloader is present. */
      plugins: z._default(listText, ['auto']),
      /** Mount point of the boot partition (extlinux, grub): kernels go to `<boot_dir>/<layer>/`. */
      boot_dir: z._default(absolutePath, '/boot'),
    }),
    {},
  ),
  persistence: z.prefault(
    z.strictObject({
      /** Plugins that carry the admin's state into a new base's layer, run in this order. */
      plugins: z._default(listText, ['tar-diff']),
      /** A file both the admin and the new base changed: `keep-admin` (the new base's beside it), or… */
      on_conflict: z._default(z.enum(['keep-admin', 'take-new-save-admin', 'fail']), 'keep-admin'),
    }),
    {},
  ),
  /** The daemon (`imgbased`): where API callers' images may be read from, and its limits. */
  daemon: z.prefault(
    z.strictObject({
      /** Images named over the API are read only below this directory (after resolving symlinks). */
      image_dir: z._default(absolutePath, '/var/lib/imgbased/images'),
      /** Jobs running at once, dry runs included; more are refused with E_BUSY. */
      max_jobs: z._default(positiveIntegerText, 4),
      /** Open event streams (`GET /v1/jobs/ID/events`) at once; more are refused with E_BUSY. */
      max_event_streams: z._default(positiveIntegerText, 16),
      /** Seconds a connection may stay idle before the daemon closes it. */
      connection_timeout: z._default(positiveIntegerText, 60),
      /** Seconds a client has to send a whole request (headers and body). */
      request_timeout: z._default(positiveIntegerText, 30),
    }),
    {},
  ),
  /** `imgbase check` (and status, motd): thresholds in percent of the thin pool, what must be separate. */
  check: z.prefault(
    z.strictObject({
      pool_data_warn: z._default(percentText, 80),
      pool_data_fail: z._default(percentText, 95),
      pool_metadata_warn: z._default(percentText, 70),
      pool_metadata_fail: z._default(percentText, 90),
      /** Mount points that must be separate volumes (e.g. `/var /var/log /var/log/audit /home /tmp`). */
      separate_paths: z._default(listText, []),
      /** LVM's thin pool autoextension must be on (a threshold below 100). */
      autoextend: z._default(booleanText, true),
    }),
    {},
  ),
  /** Trial boots (docs/trial-boots.md): a new layer proves itself before it becomes the default. */
  trial: z.prefault(
    z.strictObject({
      /**
       * `update` boots the new layer as a trial when the bootloader has trial boots (false: it becomes
       * the default at once, as before trials existed).
       */
      enabled: z._default(booleanText, true),
      /** Boots a trial gets before the bootloader falls back to the last good layer (1 to 9). */
      tries: z._default(
        z.pipe(positiveIntegerText, z.int().check(z.maximum(9, 'must be at most 9 (grub counts in one digit)'))),
        3,
      ),
      /** After a failed check: `reboot` into the last good layer, or `stay` until the admin reboots. */
      on_failure: z._default(z.enum(['reboot', 'stay']), 'reboot'),
      /** Seconds each check may take (imgbased-boot-check.service). */
      timeout: z._default(positiveIntegerText, 300),
      /** Units that must not have failed for the trial to pass; empty: any failed unit fails it. */
      units: z._default(listText, []),
    }),
    {},
  ),
});

/** The sections whose nested sections (`[bootloader.NAME]`) belong to plugins. */
export const PLUGIN_SECTION_KINDS = ['bootloader', 'persistence'] as const;

/** One plugin's section (`[KIND.NAME]`) as one file gave it: validated later, by the plugin's schema. */
export interface PluginSection {
  readonly kind: (typeof PLUGIN_SECTION_KINDS)[number];
  readonly name: string;
  readonly file: string;
  readonly values: Readonly<Record<string, unknown>>;
}

export type ImgbasedConfig = z.output<typeof ConfigSchema> & {
  /** Plugins' own sections, in file order; each plugin validates its own (see resolvePluginSettings). */
  readonly pluginSections: readonly PluginSection[];
};
export type ConfigInput = z.input<typeof ConfigSchema>;

export interface ConfigFile {
  readonly path: string;
  /** Parsed INI: section name to key/value pairs. */
  readonly sections: Readonly<Record<string, unknown>>;
}

export const ImgbasedConfig = Symbol.for('imgbased.Config');

/** Validates each file on its own (to name the culprit), then merges them in order. */
export function resolveConfig(files: readonly ConfigFile[]): ImgbasedConfig {
  const merged: Record<string, Record<string, unknown>> = {};
  const pluginSections: PluginSection[] = [];
  for (const file of files) {
    const { core, plugins } = splitPluginSections(file);
    pluginSections.push(...plugins);
    const result = ConfigSchema.safeParse(core);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const key =
        issue.code === 'unrecognized_keys'
          ? [...issue.path, issue.keys[0]].join('.')
          : issue.path.join('.') || '(top level)';
      const reason = issue.code === 'unrecognized_keys' ? (MOVED_SETTINGS[key] ?? 'unknown setting') : issue.message;
      throw new ConfigInvalidError(file.path, key, reason);
    }
    for (const [section, values] of Object.entries(core)) {
      if (typeof values !== 'object' || values === null) continue;
      merged[section] = { ...merged[section], ...(values as Record<string, unknown>) };
    }
  }
  return { ...ConfigSchema.parse(merged), pluginSections };
}

export function defaultConfig(): ImgbasedConfig {
  return { ...ConfigSchema.parse({}), pluginSections: [] };
}

/** Takes `[bootloader.NAME]` and `[persistence.NAME]` (nested objects, as INI parsers give them) apart. */
function splitPluginSections(file: ConfigFile): { core: Record<string, unknown>; plugins: PluginSection[] } {
  const core: Record<string, unknown> = { ...file.sections };
  const plugins: PluginSection[] = [];
  for (const kind of PLUGIN_SECTION_KINDS) {
    const section = file.sections[kind];
    if (typeof section !== 'object' || section === null || Array.isArray(section)) continue;
    const own: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(section)) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        if (!/^[a-z][a-z0-9-]*$/.test(key))
          throw new ConfigInvalidError(file.path, `${kind}.${key}`, 'not a plugin name');
        plugins.push({ kind, name: key, file: file.path, values: value as Record<string, unknown> });
      } else {
        own[key] = value;
      }
    }
    core[kind] = own;
  }
  return { core, plugins };
}
