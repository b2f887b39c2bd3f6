import { desiredEntryId, entryIdForLayer } from '../boot/entries.js';
import type {
  BootEntry,
  Bootloader,
  BootloaderCapabilities,
  BootloaderSelection,
  BootState,
  DesiredBootEntry,
  OwnBootFiles,
  WriteEntriesOptions,
  WriteResult,
} from '../contracts/bootloader.js';
import { BootEntryNotFoundError, BootLastEntryError, BootUnsupportedError } from '../errors/index.js';

/**
 * A bootloader that keeps its entries in memory, for the engine's unit tests: it follows the
 * contract (foreign entries kept, ids from layer names) and can be made to fail. Proves nothing
 * about any real bootloader.
 */
export class MemoryBootloader implements Bootloader, BootloaderSelection {
  readonly name = 'memory';
  entries: BootEntry[] = [];
  defaultId: string | undefined;
  nextId: string | undefined;
  present = true;
  oneShot = true;
  /** What writes report: false as on a FAT ESP, where no write is one atomic rename. */
  atomic = true;
  readonly log: string[] = [];
  /** The root `ownFiles` reports: where kernels are staged (an ESP mounted apart, as systemd-boot may). */
  kernelRoot = '/boot';
  /** imgbased's files on the (imaginary) boot partition: `/boot/<layer>` directories and leftovers. */
  readonly files = new Set<string>();
  /** Makes a write apply, then throw: a write that fails half way. */
  failAfterWrite: Error | undefined;
  /** Makes the next call of this method throw. */
  failNext: { method: 'writeEntries' | 'setDefault' | 'setNextBoot'; error: Error } | undefined;

  async select(): Promise<Bootloader | undefined> {
    return this.present ? this : undefined;
  }
  async detect(): Promise<boolean> {
    return this.present;
  }
  async capabilities(): Promise<BootloaderCapabilities> {
    return { atomicSwap: true, nativeOneShot: this.oneShot, nativeBootCounting: false };
  }
  async state(): Promise<BootState> {
    return structuredClone({ entries: this.entries, defaultId: this.defaultId, nextId: this.nextId });
  }
  async writeEntries(desired: readonly DesiredBootEntry[], options: WriteEntriesOptions = {}): Promise<WriteResult> {
    this.maybeFail('writeEntries');
    if (desired.length === 0 && !options.allowNoEntries && this.entries.every((e) => e.layer !== undefined)) {
      const last = this.entries.findLast((e) => e.layer !== undefined);
      if (last?.layer !== undefined) throw new BootLastEntryError(last.layer);
    }
    this.log.push(`write ${desired.map((d) => d.layer).join(',')}${options.keepFiles ? ' (keep files)' : ''}`);
    const leaving = this.entries.filter((e) => e.layer !== undefined && !desired.some((d) => d.layer === e.layer));
    const ours = desired.map((d): BootEntry => {
      const from = 'onBootPartition' in d.files ? d.files.onBootPartition.kernel : d.files.kernel;
      const kernelName = from.split('/').at(-1) ?? 'vmlinuz';
      const initrdFrom = 'onBootPartition' in d.files ? d.files.onBootPartition.initrd : d.files.initrd;
      return {
        id: desiredEntryId(d, this.entries),
        title: d.title,
        version: d.version,
        kernel: `/${d.layer}/${kernelName}`,
        initrd: initrdFrom === undefined ? undefined : `/${d.layer}/${initrdFrom.split('/').at(-1)}`,
        options: [...d.options],
        layer: d.layer,
      };
    });
    this.entries = [...ours, ...this.entries.filter((e) => e.layer === undefined)];
    if (this.defaultId !== undefined && !this.entries.some((e) => e.id === this.defaultId)) {
      this.defaultId = ours.at(-1)?.id;
    } else if (this.defaultId === undefined && !options.keepDefault) {
      this.defaultId = ours.at(-1)?.id;
    }
    for (const entry of ours) this.files.add(`/boot/${entry.layer}`);
    if (!options.keepFiles) for (const entry of leaving) this.files.delete(`/boot/${entry.layer}`);
    if (this.failAfterWrite) {
      const error = this.failAfterWrite;
      this.failAfterWrite = undefined;
      throw error;
    }
    return { atomic: this.atomic };
  }
  async ownFiles(): Promise<OwnBootFiles> {
    const names = [...this.files].map((p) => p.slice('/boot/'.length));
    return {
      root: this.kernelRoot,
      layerDirs: names.filter((n) => !n.startsWith('.')),
      leftovers: names.filter((n) => n.startsWith('.')).map((n) => `/boot/${n}`),
    };
  }
  async removeOwnFiles(paths: readonly string[]): Promise<void> {
    const named = new Set(this.entries.filter((e) => e.layer !== undefined).map((e) => `/boot/${e.layer}`));
    const doomed = paths.filter((p) => this.files.has(p) && !named.has(p));
    if (doomed.length === 0) return;
    this.log.push(`remove files ${doomed.join(',')}`);
    for (const path of doomed) this.files.delete(path);
  }
  async setDefault(entryId: string): Promise<WriteResult> {
    this.maybeFail('setDefault');
    if (!this.entries.some((e) => e.id === entryId)) throw new BootEntryNotFoundError(entryId, this.name);
    this.log.push(`default ${entryId}`);
    this.defaultId = entryId;
    return { atomic: this.atomic };
  }
  async setNextBoot(entryId: string): Promise<WriteResult> {
    this.maybeFail('setNextBoot');
    if (!this.oneShot) throw new BootUnsupportedError(this.name, 'boot an entry once');
    if (!this.entries.some((e) => e.id === entryId)) throw new BootEntryNotFoundError(entryId, this.name);
    this.log.push(`next ${entryId}`);
    this.nextId = entryId;
    return { atomic: true };
  }
  /** The whole state, to assert that a failed operation changed nothing. */
  snapshot(): string {
    return JSON.stringify({ entries: this.entries, defaultId: this.defaultId, nextId: this.nextId });
  }
  private maybeFail(method: NonNullable<MemoryBootloader['failNext']>['method']): void {
    if (this.failNext?.method === method) {
      const { error } = this.failNext;
      this.failNext = undefined;
      throw error;
    }
  }
}

/** An installed entry of `layer`, as imgbase (or an installer) would have left it. */
export function installedLayerEntry(
  layer: string,
  { vg = 'onn', version = '6.1.0', extraOptions = [] as readonly string[] } = {},
): BootEntry {
  return {
    id: entryIdForLayer(layer),
    title: `${layer} (${version})`,
    version,
    kernel: `/${layer}/vmlinuz-${version}`,
    initrd: undefined,
    options: [...extraOptions, `rd.lvm.lv=${vg}/${layer}`, `root=/dev/${vg}/${layer}`, `img.bootid=${layer}`],
    layer,
  };
}

/** An entry imgbased did not write (no `img.bootid`): listed, never changed. */
export function foreignEntry(id = 'rescue'): BootEntry {
  return { id, title: 'Rescue', version: '', kernel: '/vmlinuz', initrd: undefined, options: [], layer: undefined };
}
