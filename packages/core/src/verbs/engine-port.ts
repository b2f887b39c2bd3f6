import type { OperationContext } from '../events.js';
import type { AdoptResult } from '../layout/adopt-schema.js';
import type {
  BaseView,
  BootChange,
  BootDefault,
  BootDefaultChange,
  BootList,
  ChangeResult,
  FreeSpace,
  KernelArgs,
  KernelArgsChange,
  LayerView,
  LayoutView,
} from '../layout/schema.js';
import type { PinChange, RollbackResult, UpdateResult } from '../layout/update-schema.js';
import type { AdminVerbEngine } from './admin-port.js';
import type { TrialVerbEngine } from './trial-table.js';

/**
 * The engine calls the verb table makes: a structural port, so that the table needs no engine class
 * (ImageEngine satisfies it; a test checks that it does).
 */
export interface VerbEngine extends AdminVerbEngine, TrialVerbEngine {
  layout(context?: OperationContext): Promise<LayoutView>;
  freeSpace(context?: OperationContext): Promise<FreeSpace>;
  latestBase(context?: OperationContext): Promise<BaseView>;
  baseOfLayer(name: string, context?: OperationContext): Promise<BaseView>;
  latestLayer(context?: OperationContext): Promise<LayerView>;
  currentLayer(context?: OperationContext): Promise<LayerView>;
  volumePath(name: string, context?: OperationContext): Promise<string>;
  initLayout(
    request: { readonly nvr: string; readonly from?: string },
    context?: OperationContext,
  ): Promise<ChangeResult>;
  addBase(
    request: { readonly nvr: string; readonly sizeBytes: number; readonly image?: string | undefined },
    context?: OperationContext,
  ): Promise<ChangeResult>;
  removeBase(name: string, context?: OperationContext): Promise<ChangeResult>;
  adoptLayout(context?: OperationContext): Promise<AdoptResult>;
  pinBase(name: string, pinned: boolean, context?: OperationContext): Promise<PinChange>;
  update(
    request: {
      readonly image: string;
      readonly nvr?: string | undefined;
      readonly format?: 'auto' | 'ext4' | 'squashfs' | 'tar' | undefined;
      readonly sha256?: string | undefined;
      readonly from?: string | undefined;
      readonly keep?: number | undefined;
    },
    context?: OperationContext,
  ): Promise<UpdateResult>;
  rollback(request: { readonly to?: string | undefined }, context?: OperationContext): Promise<RollbackResult>;
  addLayer(
    request: { readonly from?: string | undefined; readonly trial?: boolean | undefined },
    context?: OperationContext,
  ): Promise<ChangeResult>;
  bootList(context?: OperationContext): Promise<BootList>;
  bootDefault(context?: OperationContext): Promise<BootDefault>;
  setDefaultBoot(layer: string, context?: OperationContext): Promise<BootDefaultChange>;
  setDefaultBootAsTrial(layer: string, context?: OperationContext): Promise<BootDefaultChange>;
  setNextBoot(layer: string, context?: OperationContext): Promise<BootChange>;
  kernelArgs(layer: string, context?: OperationContext): Promise<KernelArgs>;
  editKernelArgs(
    layer: string,
    edit: { readonly append?: readonly string[] | undefined; readonly delete?: readonly string[] | undefined },
    context?: OperationContext,
  ): Promise<KernelArgsChange>;
}
