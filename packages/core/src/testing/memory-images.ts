import type { ImageInfo, ImageInspectOptions, ImageInstaller, ImageSource, LocalImage } from '../contracts/image.js';
import type {
  Persistence,
  PersistenceOptions,
  PersistencePolicy,
  PersistenceReport,
  PersistenceTrees,
} from '../contracts/persistence.js';
import type { ConfiguredPersistence, PersistenceSelection } from '../contracts/plugin.js';
import { emit, type OperationContext } from '../events.js';

/**
 * Images as plain data, for the engine's unit tests: `resolve` and `inspect` answer from `images`
 * (keyed by IMAGE as given), `install` records the device. Each method can be made to fail, or to
 * run a hook (e.g. abort a signal) in the middle. Proves nothing about real images.
 */
export class MemoryImages implements ImageSource, ImageInstaller {
  readonly images = new Map<string, { local: LocalImage; info: ImageInfo; bytes?: number }>();
  readonly calls: string[] = [];
  fail: { method: 'resolve' | 'inspect' | 'install'; error: Error } | undefined;
  during: ((method: string) => void) | undefined;

  /** Adds an ext4 image whose os-release names `nvr`. */
  add(image: string, nvr: string, overrides: Partial<ImageInfo> = {}): this {
    const path = image.startsWith('http') ? `/var/tmp/imgbased/${image.split('/').at(-1)}` : image;
    this.images.set(image, {
      local: { path, fileName: path.split('/').at(-1)!, url: image.startsWith('http') ? image : undefined },
      info: {
        path,
        format: 'ext4',
        nvr,
        nvrFrom: 'os-release',
        dataBytes: 512 * 1024 ** 2,
        minimumDeviceBytes: 2 * 1024 ** 3,
        ...overrides,
      },
    });
    return this;
  }

  private record(method: 'resolve' | 'inspect' | 'install', detail: string): void {
    this.calls.push(`${method} ${detail}`);
    this.during?.(method);
    if (this.fail?.method === method) throw this.fail.error;
  }

  async resolve(
    image: string,
    options: { readonly downloadDirectory: string; readonly sha256?: string | undefined },
  ): Promise<LocalImage> {
    this.record('resolve', image);
    const found = this.images.get(image);
    if (!found) throw new Error(`no image ${image}`);
    return options.sha256 ? { ...found.local, verified: { sha256: options.sha256, from: 'option' } } : found.local;
  }

  async inspect(path: string, options: ImageInspectOptions = {}): Promise<ImageInfo> {
    this.record('inspect', path);
    const found = [...this.images.values()].find((i) => i.local.path === path);
    if (!found) throw new Error(`no image at ${path}`);
    return options.nvr ? { ...found.info, nvr: options.nvr, nvrFrom: 'option' } : found.info;
  }

  async install(image: ImageInfo, device: string, context?: OperationContext): Promise<void> {
    emit(context, { type: 'progress', step: 'install', bytes: image.dataBytes, total: image.dataBytes });
    this.record('install', `${image.path} ${device}`);
  }
}

/** A persistence plugin that returns a canned report and records the trees it was given. */
export class RecordingPersistence implements Persistence {
  readonly calls: { trees: PersistenceTrees; policy: PersistencePolicy; options: PersistenceOptions }[] = [];
  fail: Error | undefined;
  constructor(
    readonly name: string,
    public report: Omit<PersistenceReport, 'plugin' | 'dryRun'> = {
      copied: ['/etc/hosts'],
      merged: ['/etc/passwd'],
      keptFromNewBase: ['/etc/os-release'],
      deleted: [],
      conflicts: [],
    },
  ) {}

  async carryOver(
    trees: PersistenceTrees,
    policy: PersistencePolicy,
    options: PersistenceOptions,
  ): Promise<PersistenceReport> {
    this.calls.push({ trees, policy, options });
    if (this.fail) throw this.fail;
    return { plugin: this.name, dryRun: options.dryRun, ...this.report };
  }
}

/** `[persistence] plugins` as a fixed list. */
export class FixedPersistenceSelection implements PersistenceSelection {
  constructor(readonly plugins: Persistence[]) {}
  async select(): Promise<readonly ConfiguredPersistence[]> {
    return this.plugins.map((persistence) => ({
      name: persistence.name,
      persistence,
      policy: { paths: ['/etc', '/root'], excludes: [], onConflict: 'keep-admin' },
    }));
  }
}
