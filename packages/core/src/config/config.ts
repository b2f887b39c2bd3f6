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

export const ConfigSchema = z.strictObject({
  core: z.prefault(
    z.strictObject({
      debug: z._default(booleanText, false),
      experimental: z._default(booleanText, false),
      lock_dir: z._default(z.string().check(z.startsWith('/', 'must be an absolute path')), '/run/imgbased'),
    }),
    {},
  ),
  update: z.prefault(z.strictObject({ images_to_keep: z._default(positiveIntegerText, 2) }), {}),
  bootloader: z.prefault(
    z.strictObject({
      /** Plugins to use, in order of preference; `auto` takes the first one whose bootloader is present. */
      plugins: z._default(listText, ['auto']),
      /** Mount point of the boot partition (extlinux, grub): kernels go to `<boot_dir>/<layer>/`. */
      boot_dir: z._default(z.string().check(z.startsWith('/', 'must be an absolute path')), '/boot'),
      /** The ESP (or XBOOTLDR) for systemd-boot; `auto`: the first of /efi, /boot/efi, /boot holding loader/. */
      esp_dir: z._default(z.string().check(z.regex(/^(auto|\/.*)$/, 'must be auto or an absolute path')), 'auto'),
      /** grub: `blscfg` writes BLS entries (Fedora, RHEL), `menu` a menu file grub.cfg sources (Debian). */
      grub_mode: z._default(z.enum(['auto', 'blscfg', 'menu']), 'auto'),
      /** systemd-boot boot counting: tries of a new entry (`+N`); 0 turns counting off. */
      boot_counting_tries: z._default(
        z.pipe(
          z.union([
            z.number(),
            z.pipe(z.string().check(z.regex(/^\d+$/, 'expected a whole number')), z.transform(Number)),
          ]),
          z.int().check(z.minimum(0), z.maximum(9)),
        ),
        0,
      ),
    }),
    {},
  ),
});

export type ImgbasedConfig = z.output<typeof ConfigSchema>;
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
  for (const file of files) {
    const result = ConfigSchema.safeParse(file.sections);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const key =
        issue.code === 'unrecognized_keys'
          ? [...issue.path, issue.keys[0]].join('.')
          : issue.path.join('.') || '(top level)';
      const reason = issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message;
      throw new ConfigInvalidError(file.path, key, reason);
    }
    for (const [section, values] of Object.entries(file.sections)) {
      if (typeof values !== 'object' || values === null) continue;
      merged[section] = { ...merged[section], ...(values as Record<string, unknown>) };
    }
  }
  return ConfigSchema.parse(merged);
}

export function defaultConfig(): ImgbasedConfig {
  return ConfigSchema.parse({});
}
