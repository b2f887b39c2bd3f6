import type { HostInfo } from '../contracts/host.js';
import type { VolumeManager } from '../contracts/volume-manager.js';
import { BaseNotFoundError, LayerNotFoundError, NotOnLayerError } from '../errors/index.js';
import type { OperationContext } from '../events.js';
import { allLayers, latestBase, latestLayer } from '../layout/layout.js';
import type { BaseView, FreeSpace, LayerView, LayoutView } from '../layout/schema.js';
import { parseLayerName, validateVolumeName } from '../naming/nvr.js';
import { findByDevice, requireLayout } from './layout-lookups.js';

/** The reading verbs: the layout and what can be found in it. They change nothing and take no lock. */
export class LayoutQueries {
  constructor(
    private readonly volumes: VolumeManager,
    private readonly host: HostInfo,
  ) {}

  /** The whole layout; throws NoLayoutError when the host has none. */
  async layout(context?: OperationContext): Promise<LayoutView> {
    return requireLayout(await this.volumes.report(context), context);
  }

  async latestBase(context?: OperationContext): Promise<BaseView> {
    const base = latestBase(await this.layout(context));
    if (!base) throw new BaseNotFoundError('(latest)');
    return base;
  }

  async latestLayer(context?: OperationContext): Promise<LayerView> {
    const layer = latestLayer(await this.layout(context));
    if (!layer) throw new LayerNotFoundError('(latest)');
    return layer;
  }

  async baseOfLayer(name: string, context?: OperationContext): Promise<BaseView> {
    parseLayerName(name);
    const layout = await this.layout(context);
    const base = layout.bases.find((b) => b.layers.some((l) => l.name === name));
    if (!base) throw new LayerNotFoundError(name);
    return base;
  }

  /** The layer mounted at `/`. */
  async currentLayer(context?: OperationContext): Promise<LayerView> {
    const [report, root] = await Promise.all([this.volumes.report(context), this.host.mountedRoot(context)]);
    const layout = requireLayout(report, context);
    const layer = root.device && findByDevice(allLayers(layout), report, root.device);
    if (!layer) throw new NotOnLayerError(root.source);
    return layer;
  }

  /** The device path of a base or layer. */
  async volumePath(name: string, context?: OperationContext): Promise<string> {
    validateVolumeName(name);
    const layout = await this.layout(context);
    const volume = [...layout.bases, ...allLayers(layout)].find((v) => v.name === name);
    if (!volume) throw name.includes('+') ? new LayerNotFoundError(name) : new BaseNotFoundError(name);
    return volume.path;
  }

  async freeSpace(context?: OperationContext): Promise<FreeSpace> {
    const { pool } = await this.layout(context);
    return { pool: pool.name, freeBytes: pool.freeBytes, sizeBytes: pool.sizeBytes };
  }
}
