// zod/mini, as core's own configuration: small to load, and a Standard Schema the host validates with.
import * as z from 'zod/mini';

/** `[bootloader.grub-bls]`: values arrive from INI as strings. */
export const grubBlsSettings = z.strictObject({
  /** `blscfg` writes BLS entries (Fedora, RHEL), `menu` a menu file grub.cfg sources (Debian); `auto` asks grub.cfg. */
  mode: z._default(z.enum(['auto', 'blscfg', 'menu']), 'auto'),
  /** The grub-editenv to run; `auto`: `grub-editenv`, else `grub2-editenv` (Fedora and RHEL's name). */
  editenv: z._default(
    z.string().check(z.regex(/^(auto|\/\S+|[A-Za-z0-9._+-]+)$/, 'must be auto, a program name or an absolute path')),
    'auto',
  ),
});

export type GrubBlsSettings = z.output<typeof grubBlsSettings>;
