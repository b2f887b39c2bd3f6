import type { BootEntry, DesiredBootEntry } from '../contracts/bootloader.js';
import { KernelArgInvalidError } from '../errors/index.js';

/**
 * What every bootloader plugin shares about imgbased's entries: ids, titles, kernel arguments and
 * where a layer's files go on the boot partition. Pure functions.
 */

/** The kernel argument that names the layer an entry boots, as in the original. */
export const BOOT_ID_ARG = 'img.bootid';

/**
 * The entry id of a layer: `imgbased-<NVR>-layer<N>`. Never `NAME+N` (systemd-boot would read `+N` as a
 * boot counter); only `[A-Za-z0-9._-]`, valid as a BLS file name, grub menuentry id and extlinux LABEL.
 */
export function entryIdForLayer(layer: string): string {
  const plus = layer.lastIndexOf('+');
  const base = plus < 0 ? layer : `${layer.slice(0, plus)}-layer${layer.slice(plus + 1)}`;
  return `imgbased-${base.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/**
 * The id a desired entry is written under: the one it names, else the id of the installed entry of
 * its layer (an entry is its layer's, whatever its file is called: the original named its BLS files
 * `<layer>-<kver>`), else `entryIdForLayer`.
 */
export function desiredEntryId(
  entry: Pick<DesiredBootEntry, 'id' | 'layer'>,
  installed: readonly Pick<BootEntry, 'id' | 'layer'>[],
): string {
  return entry.id ?? installed.find((e) => e.layer === entry.layer)?.id ?? entryIdForLayer(entry.layer);
}

/** `<NVR+N> (<kernel version>)`, the original's title. */
export function entryTitle(layer: string, kernelVersion: string): string {
  return `${layer} (${kernelVersion})`;
}

/** The directory of a layer's kernel and initrd on the boot partition, relative to its root. */
export function layerBootDir(layer: string): string {
  return `/${layer}`;
}

/** The layer named by an entry's `img.bootid=`, or undefined (not one of imgbased's entries). */
export function layerOfOptions(options: readonly string[]): string | undefined {
  const found = options.findLast((o) => o.startsWith(`${BOOT_ID_ARG}=`));
  return found === undefined ? undefined : found.slice(BOOT_ID_ARG.length + 1) || undefined;
}

export interface KernelArgsRequest {
  /** The layer's own arguments (e.g. its GRUB_CMDLINE_LINUX, or the source entry's options). */
  readonly layerArgs: readonly string[];
  readonly vg: string;
  readonly layer: string;
  /** Arguments an admin added to this layer (appended, replacing a same-named `key=`). */
  readonly add?: readonly string[] | undefined;
  /** Arguments an admin removed: `key` removes every `key`/`key=…`, `key=value` only that one. */
  readonly remove?: readonly string[] | undefined;
}

/** Arguments imgbased itself sets; taken out of inherited arguments before they are set again. */
const OWN_KEYS = ['rd.lvm.lv', 'root', 'rootflags', BOOT_ID_ARG];

function keyOf(arg: string): string {
  const eq = arg.indexOf('=');
  return eq < 0 ? arg : arg.slice(0, eq);
}

/** Splits a kernel command line on blanks, keeping double-quoted values together. */
export function splitKernelArgs(line: string): string[] {
  return line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

/**
 * The original's composition: the layer's own arguments, then `rd.lvm.lv=VG/LV root=/dev/VG/LV
 * rootflags=discard` and `img.bootid=<layer>`; then the admin's additions and removals.
 */
export function composeKernelArgs(request: KernelArgsRequest): string[] {
  const own = request.layerArgs.filter((a) => !OWN_KEYS.includes(keyOf(a)));
  let args = [
    ...own,
    `rd.lvm.lv=${request.vg}/${request.layer}`,
    `root=/dev/${request.vg}/${request.layer}`,
    'rootflags=discard',
    `${BOOT_ID_ARG}=${request.layer}`,
  ];
  for (const removed of request.remove ?? []) {
    if (keyOf(removed) === BOOT_ID_ARG) continue; // the entry would stop being imgbased's
    args = args.filter((a) => (removed.includes('=') ? a !== removed : keyOf(a) !== removed));
  }
  for (const added of request.add ?? []) {
    const key = keyOf(added);
    if (key === BOOT_ID_ARG) continue;
    args = added.includes('=') ? args.filter((a) => keyOf(a) !== key) : args.filter((a) => a !== added);
    args.push(added);
  }
  return args;
}

/** Keys imgbased sets for every layer: an admin may not append or delete them (the layer would not boot). */
const RESERVED_KEYS = ['rd.lvm.lv', 'root', BOOT_ID_ARG];

/**
 * One argument as an admin may append or delete it: printable ASCII without blanks, except inside a
 * double-quoted value (`key="a b"`, as the kernel parses it); no backslash or stray quote, which the
 * entry formats (BLS, grub script, extlinux) would each read differently. Throws KernelArgInvalidError.
 */
export function validateKernelArg(arg: string): void {
  if (arg.length === 0 || arg.length > 1024)
    throw new KernelArgInvalidError(arg, 'give one argument, 1 to 1024 characters');
  if (!/^(?:[!#-[\]-~]|"[ !#-[\]-~]*")+$/.test(arg))
    throw new KernelArgInvalidError(
      arg,
      'use printable characters, no blanks outside a double-quoted value, no backslash or unbalanced quote',
    );
  if (RESERVED_KEYS.includes(keyOf(arg)))
    throw new KernelArgInvalidError(arg, `imgbased sets ${keyOf(arg)} itself for every layer`);
}

/** The desired entry of `layer`, booting the kernel and initrd an installed entry boots. */
export function desiredFromInstalled(
  entry: BootEntry,
  layer: string,
  vg: string,
  overrides: Pick<KernelArgsRequest, 'add' | 'remove'> = {},
): DesiredBootEntry {
  return {
    layer,
    title: entryTitle(layer, entry.version),
    version: entry.version,
    options: composeKernelArgs({ layerArgs: entry.options, vg, layer, ...overrides }),
    files: keptFiles(entry),
  };
}

/** The files of an installed entry, as a source. */
export function keptFiles(entry: Pick<BootEntry, 'kernel' | 'initrd'>): DesiredBootEntry['files'] {
  return { onBootPartition: { kernel: entry.kernel, initrd: entry.initrd } };
}

/** The source files of a desired entry: absolute host paths, or paths relative to the boot partition. */
export function entrySources(entry: DesiredBootEntry): { kernel: string; initrd: string | undefined; onBoot: boolean } {
  if ('onBootPartition' in entry.files)
    return { ...entry.files.onBootPartition, initrd: entry.files.onBootPartition.initrd, onBoot: true };
  return { kernel: entry.files.kernel, initrd: entry.files.initrd, onBoot: false };
}

/** Where a desired entry's files go: `/<layer>/<file name>`. */
export function entryFilePaths(entry: DesiredBootEntry): { kernel: string; initrd: string | undefined } {
  const dir = layerBootDir(entry.layer);
  const sources = entrySources(entry);
  return {
    kernel: `${dir}/${baseName(sources.kernel)}`,
    initrd: sources.initrd === undefined ? undefined : `${dir}/${baseName(sources.initrd)}`,
  };
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The newest kernel version first, by the digits in it (`6.1.0-10` after `6.1.0-9`). */
export function compareKernelVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Picks a kernel (and its initrd) from the file names of a /boot directory, newest version first. */
export interface FoundKernel {
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly version: string;
}

/** The kernel of a /boot listing: version `prefer` when it is there, else the newest; with its initrd. */
export function findKernel(files: readonly string[], prefer?: string): FoundKernel | undefined {
  const versions = files
    .filter((f) => /^vmlinuz-.+/.test(f))
    .map((f) => f.slice('vmlinuz-'.length))
    .sort(compareKernelVersions);
  const version = prefer !== undefined && versions.includes(prefer) ? prefer : versions.at(-1);
  if (version === undefined) return undefined;
  const initrd = [`initrd.img-${version}`, `initramfs-${version}.img`, `initrd-${version}`].find((f) =>
    files.includes(f),
  );
  return { kernel: `vmlinuz-${version}`, initrd, version };
}
