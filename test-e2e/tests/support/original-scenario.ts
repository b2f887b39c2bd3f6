// Shared by original-host.e2e.test.ts: the shell around imgbase on a disk laid out by the original
// (or by the fixture that reproduces it), and how its output is read back.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../../src/index.ts';
import { INSTALL_POOL_PROFILE, ORIGINAL_VG } from '../../src/original-host.ts';

/** The original oVirt imgbased, as a person placed it for comparison: never fetched by the tests. */
export const ORIGINAL_SOURCE = path.join(cacheDir, 'imgbased-original-1.2.27', 'src');
export const ORIGINAL_MISSING = !existsSync(path.join(ORIGINAL_SOURCE, 'imgbased', 'constants.py'));
export const ORIGINAL_SKIP_REASON = `the original imgbased is not at ${ORIGINAL_SOURCE} (a checkout of oVirt/imgbased 1.2.27 whose src/imgbased/constants.py is configured; it needs Debian's python3-rpm and python3-systemd): the comparison with the real original is skipped`;

/**
 * Shell: `orig ARGS…` runs the original (Debian's python3) with its oVirt Node OS integration left
 * out (it needs a separate /var, vdsm…): its LVM steps run as written.
 */
export const ORIGINAL_CLI = `orig() { (cd ${ORIGINAL_SOURCE} && /usr/bin/python3 -c 'import imgbased.plugins.osupdater as o; o.init = lambda app: None; from imgbased import CliApplication; CliApplication()' "$@"); }`;

/** Shell: the VG active, the pool profile in place, /boot mounted, imgbased configured for grub with blscfg. */
export const OPEN_ORIGINAL_HOST = `${INSTALL_POOL_PROFILE}
lvm vgchange -ay ${ORIGINAL_VG} >&2
mkdir -p /boot && mount /dev/vda1 /boot
printf '[bootloader]\\nplugins = grub-bls\\nboot_dir = /boot\\n\\n[bootloader.grub-bls]\\nmode = blscfg\\n' > /etc/imgbased.conf`;

/** Shell: every volume's name, attributes (the open flag as `-`), tags and origin (`-`: none), sorted. */
export const LVS = `lvm lvs --noheadings --separator '|' -o lv_name,lv_attr,lv_tags,origin ${ORIGINAL_VG} | tr -d ' ' | awk -F'|' '{print $1, substr($2,1,5) "-" substr($2,7), ($3==""?"-":$3), ($4==""?"-":$4)}' | sort`;

/** Each `@@NAME` line followed by what was printed, up to the next marker. */
export function sections(out: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const part of out.split(/^@@/m).slice(1)) {
    const newline = part.indexOf('\n');
    found[part.slice(0, newline)] = part.slice(newline + 1);
  }
  return found;
}

/** The `data` of a `--json` answer in a section. */
export function data<T = Record<string, unknown>>(text: string | undefined): T {
  const envelope = JSON.parse(text ?? 'null') as { data?: T; error?: { message: string } } | null;
  if (!envelope?.data) throw new Error(`no data in: ${text}`);
  return envelope.data;
}

/** Volume lines of LVS as `name → [attributes, tags, origin]`. */
export function volumes(text: string | undefined): Record<string, string[]> {
  return Object.fromEntries(
    (text ?? '')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, ...rest] = line.trim().split(' ');
        return [name!, rest];
      }),
  );
}
