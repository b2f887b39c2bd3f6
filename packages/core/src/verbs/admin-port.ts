import type { OperationContext } from '../events.js';
import type {
  CheckReport,
  LayerDiff,
  LayerMount,
  Motd,
  RecoverResult,
  RecoveryList,
  Status,
  VolumeChangeResult,
  VolumeList,
} from '../layout/admin-schema.js';

/** The engine calls of the host administration verbs (ImageEngine has them from AdminEngine). */
export interface AdminVerbEngine {
  status(context?: OperationContext): Promise<Status>;
  check(context?: OperationContext): Promise<CheckReport>;
  motd(update: boolean, context?: OperationContext): Promise<Motd>;
  listVolumes(context?: OperationContext): Promise<VolumeList>;
  createVolume(path: string, sizeBytes: number, context?: OperationContext): Promise<VolumeChangeResult>;
  removeVolume(path: string, context?: OperationContext): Promise<VolumeChangeResult>;
  attachVolume(path: string, context?: OperationContext): Promise<VolumeChangeResult>;
  detachVolume(path: string, context?: OperationContext): Promise<VolumeChangeResult>;
  recoveryList(context?: OperationContext): Promise<RecoveryList>;
  recover(context?: OperationContext): Promise<RecoverResult>;
  mountLayer(
    request: { readonly name: string; readonly directory?: string | undefined; readonly readWrite: boolean },
    context?: OperationContext,
  ): Promise<LayerMount>;
  unmountLayer(name: string, context?: OperationContext): Promise<LayerMount>;
  diffLayers(
    request: { readonly name: string; readonly with?: string | undefined; readonly content?: boolean | undefined },
    context?: OperationContext,
  ): Promise<LayerDiff>;
}
