import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BootEntry,
  type BootState,
  type DesiredBootEntry,
  entryFilePaths,
  entryIdForLayer,
  keptFiles,
} from '@imgbased/core';
import { expect } from 'vitest';

/**
 * The suite's layers: `testkit-1.0-<n>+1`, kernel `6.1.0-<n>`, the kernel arguments imgbased composes,
 * one with a comma (as serial consoles have). Layer 2 has no initrd: the contract allows it.
 */
export function layerName(n: number): string {
  return `testkit-1.0-${n}+1`;
}
export function entryId(n: number): string {
  return entryIdForLayer(layerName(n));
}

/** Writes layer n's kernel (and initrd) into `hostDir`, as a mounted layer's /boot would hold them. */
export async function writeHostKernel(hostDir: string, n: number): Promise<void> {
  await writeFile(join(hostDir, `vmlinuz-6.1.0-${n}`), `kernel of layer ${n}\n`);
  if (n !== 2) await writeFile(join(hostDir, `initramfs-6.1.0-${n}.img`), `initrd of layer ${n}\n`);
}

/** The layers' kernels 1..3 in `<work>/host`, and their desired entries. */
export async function hostLayers(
  work: string,
): Promise<readonly [DesiredBootEntry, DesiredBootEntry, DesiredBootEntry]> {
  const host = join(work, 'host');
  for (const n of [1, 2, 3]) await writeHostKernel(host, n);
  return [fromHost(host, 1), fromHost(host, 2), fromHost(host, 3)];
}

/** Layer n's desired entry, its kernel copied from `hostDir`. */
export function fromHost(hostDir: string, n: number): DesiredBootEntry {
  const layer = layerName(n);
  return {
    layer,
    title: `${layer} (6.1.0-${n})`,
    version: `6.1.0-${n}`,
    options: [
      'console=ttyS0,115200',
      `rd.lvm.lv=testkit/${layer}`,
      `root=/dev/testkit/${layer}`,
      'rootflags=discard',
      `img.bootid=${layer}`,
    ],
    files: {
      kernel: join(hostDir, `vmlinuz-6.1.0-${n}`),
      initrd: n === 2 ? undefined : join(hostDir, `initramfs-6.1.0-${n}.img`),
    },
  };
}

/** The same entry again, booting the files it has on the boot partition (as the engine rewrites sets). */
export function kept(entry: DesiredBootEntry): DesiredBootEntry {
  return { ...entry, files: keptFiles(entryFilePaths(entry)) };
}

/** What reading back a written entry must give. */
export function expectedEntry(entry: DesiredBootEntry): Omit<BootEntry, 'tries'> {
  const paths = entryFilePaths(entry);
  return {
    id: entryIdForLayer(entry.layer),
    layer: entry.layer,
    title: entry.title,
    version: entry.version,
    kernel: paths.kernel,
    initrd: paths.initrd,
    options: [...entry.options],
  };
}

/** imgbased's entries of a state, by id, without boot counters. */
export function ownEntries(state: BootState): Omit<BootEntry, 'tries'>[] {
  return state.entries
    .filter((e) => e.layer !== undefined)
    .map(({ id, layer, title, version, kernel, initrd, options }) => ({
      id,
      layer,
      title,
      version,
      kernel,
      initrd,
      options: [...options],
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** imgbased's entries read back are exactly `desired`, field by field. */
export function expectOwnEntries(state: BootState, desired: readonly DesiredBootEntry[], when: string): void {
  const wanted = desired.map(expectedEntry).sort((a, b) => (a.id < b.id ? -1 : 1));
  expect(ownEntries(state), `imgbased's entries read back ${when}`).toEqual(wanted);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * The state boots: at least one of imgbased's entries, each naming a kernel (and initrd) that is on
 * the boot partition, and a default that names a listed entry.
 */
export async function expectBootable(state: BootState, root: string, when: string): Promise<void> {
  const own = state.entries.filter((e) => e.layer !== undefined);
  expect(own.length, `imgbased's entries ${when}`).toBeGreaterThan(0);
  for (const entry of own) {
    expect(await isFile(`${root}${entry.kernel}`), `${entry.id}'s kernel ${entry.kernel} exists ${when}`).toBe(true);
    if (entry.initrd !== undefined) {
      expect(await isFile(`${root}${entry.initrd}`), `${entry.id}'s initrd ${entry.initrd} exists ${when}`).toBe(true);
    }
  }
  // A default naming no entry makes the bootloader fall back to an entry of its own choosing. Across
  // files, that is avoided by listing the new default's entry before naming it, and by removing the
  // old default's entry only once the default names another.
  expect(
    state.entries.map((e) => e.id),
    `the default (${state.defaultId}) names a listed entry ${when}`,
  ).toContain(state.defaultId);
}
