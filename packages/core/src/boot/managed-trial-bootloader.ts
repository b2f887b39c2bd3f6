import type { BootConfiguration, BootFileOps, BootLocation, BootloaderPlugin } from '../contracts/bootloader-plugin.js';
import type { BootloaderTrial, TrialBootloader } from '../contracts/trial-bootloader.js';
import { BootConfigInvalidError, BootEntryNotFoundError, ImgbasedError } from '../errors/index.js';
import type { OperationContext } from '../events.js';
import { asBootWriteError } from './files.js';
import type { TrialProtocol, TrialRecord } from './trial-protocol.js';
import { readTrialRecord, trialRecordPath, writeTrialRecord } from './trial-record.js';

/**
 * The engine's TrialBootloader, made from a plugin that declares `trial`: layers to entry ids, every
 * read fresh before each write (a plan's steps may be minutes apart), errors typed as boot errors.
 */
export class ManagedTrialBootloader implements TrialBootloader {
  readonly protocol: TrialProtocol;
  private readonly trial: BootloaderTrial;

  constructor(
    private readonly plugin: BootloaderPlugin,
    private readonly ops: BootFileOps,
  ) {
    if (plugin.trial === undefined) throw new Error(`${plugin.name} declares no trial boots`);
    this.trial = plugin.trial;
    this.protocol = plugin.trial.protocol;
  }

  async trialState(context?: OperationContext) {
    const { location, before } = await this.read(context);
    const armed = await this.trial.armed(location, before, context).catch(wrap(location.config));
    const layerOf = (id: string | undefined) => before.entries.find((e) => e.id === id)?.layer;
    const armedLayer = layerOf(armed?.entryId);
    return {
      defaultLayer: layerOf(before.defaultId),
      armed: armed === undefined || armedLayer === undefined ? undefined : { layer: armedLayer, left: armed.left },
    };
  }

  async arm(layer: string, left: number, context?: OperationContext): Promise<void> {
    const { location, before } = await this.read(context);
    const id = this.entryIdOf(layer, before);
    await this.trial.arm(location, id, left, before, context).catch(wrap(location.config));
  }

  async disarm(makeDefault: string | undefined, context?: OperationContext): Promise<void> {
    const { location, before } = await this.read(context);
    const id = makeDefault === undefined ? undefined : this.entryIdOf(makeDefault, before);
    const { defaultWritten } = await this.trial.disarm(location, before, id, context).catch(wrap(location.config));
    if (id !== undefined && !defaultWritten) {
      const again = await this.read(context);
      await this.plugin.writeDefault(location, id, again.before, context).catch(wrap(location.config));
    }
  }

  async setDefaultLayer(layer: string, context?: OperationContext): Promise<void> {
    const { location, before } = await this.read(context);
    const id = this.entryIdOf(layer, before);
    if (before.defaultId === id) return;
    await this.plugin.writeDefault(location, id, before, context).catch(wrap(location.config));
  }

  async readRecord(context?: OperationContext): Promise<TrialRecord> {
    const location = await this.plugin.locate(context);
    return readTrialRecord(this.ops, location.root);
  }

  async writeRecord(record: TrialRecord, context?: OperationContext): Promise<void> {
    const location = await this.plugin.locate(context);
    await writeTrialRecord(this.ops, location.root, record).catch(wrap(trialRecordPath(location.root)));
  }

  private entryIdOf(layer: string, before: BootConfiguration): string {
    const entry = before.entries.find((e) => e.layer === layer);
    if (entry === undefined) throw new BootEntryNotFoundError(layer, this.plugin.name);
    return entry.id;
  }

  private async read(context?: OperationContext): Promise<{ location: BootLocation; before: BootConfiguration }> {
    const location = await this.plugin.locate(context);
    try {
      return { location, before: await this.plugin.read(location, context) };
    } catch (error) {
      if (error instanceof ImgbasedError) throw error;
      if (typeof (error as { code?: unknown }).code === 'string') throw asBootWriteError(error, location.config);
      throw new BootConfigInvalidError(location.config, error instanceof Error ? error.message : String(error));
    }
  }
}

function wrap(path: string): (error: unknown) => never {
  return (error) => {
    throw asBootWriteError(error, path);
  };
}
