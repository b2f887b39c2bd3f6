// zod/mini, as core's own configuration: small to load, and a Standard Schema the host validates with.
import * as z from 'zod/mini';

/** A whole number written in INI (a string) or given as a number. */
const wholeNumberText = z.union([
  z.number(),
  z.pipe(z.string().check(z.regex(/^\d+$/, 'expected a whole number')), z.transform(Number)),
]);

/** `[bootloader.systemd-boot]`: values arrive from INI as strings. */
export const systemdBootSettings = z.strictObject({
  /** The ESP (or XBOOTLDR); `auto`: the first of /efi, /boot/efi, /boot holding loader/. */
  esp_dir: z._default(z.string().check(z.regex(/^(auto|\/.*)$/, 'must be auto or an absolute path')), 'auto'),
  /** Boot counting: tries of a new entry (`+N` in its file name); 0 turns counting off. */
  boot_counting_tries: z._default(z.pipe(wholeNumberText, z.int().check(z.minimum(0), z.maximum(9))), 0),
});

export type SystemdBootSettings = z.output<typeof systemdBootSettings>;
