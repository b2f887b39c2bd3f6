import { inject, injectable } from 'tsyringe';
import { ImgbasedConfig } from '../config/config.js';
import { BootloaderSelection } from '../contracts/bootloader.js';
import { FilesystemDriver } from '../contracts/filesystem.js';
import { HostInfo, OperationLock } from '../contracts/host.js';
import { HostFiles, HostMounts, TreeReader } from '../contracts/host-admin.js';
import { ImageInstaller, ImageSource } from '../contracts/image.js';
import { PersistenceSelection } from '../contracts/plugin.js';
import { HostPower, TrialChecker } from '../contracts/trial-checks.js';
import { VolumeManager } from '../contracts/volume-manager.js';
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
import type { TrialChange, TrialCheck, TrialStatus } from '../layout/trial-schema.js';
import type { PinChange, RollbackResult, UpdateResult } from '../layout/update-schema.js';
import { AdminEngine } from './admin/admin-engine.js';
import { DEFAULT_CHECK_SETTINGS } from './admin/index.js';
import type { AdminParts } from './admin/parts.js';
import { Adoption } from './adopt.js';
import { BootEntries } from './boot-entries.js';
import { withBootStates } from './boot-states.js';
import { BootVerbs } from './boot-verbs.js';
import { ChangePath } from './change-path.js';
import { LayoutQueries } from './layout-queries.js';
import { Lifecycle } from './lifecycle.js';
import { Pins } from './pins.js';
import { HostRecovery } from './recovery.js';
import type { RecoveryPlan } from './recovery-plan.js';
import type {
  AddBaseRequest,
  AddLayerRequest,
  InitLayoutRequest,
  KernelArgsEdit,
  RollbackRequest,
  UpdateRequest,
} from './requests.js';
import { Rollback } from './rollback.js';
import { DEFAULT_TRIAL_SETTINGS, TrialVerbs, trialOptions } from './trial-verbs.js';
import { Update } from './update.js';
import { UpdateRecorder } from './update-record.js';
import { UpdateSteps } from './update-steps.js';
import { VolumeSteps } from './volume-steps.js';

export type { RecoveryPlan, RecoveryStep } from './recovery-plan.js';
export type {
  AddBaseRequest,
  AddLayerRequest,
  InitLayoutRequest,
  KernelArgsEdit,
  RollbackRequest,
  UpdateRequest,
} from './requests.js';

/**
 * The one engine behind every front end. It never prints, never exits and runs no command itself: it
 * reports events, honours an AbortSignal, returns plain serialisable data and throws typed errors.
 * Every changing verb takes one change path (lock, recovery of interrupted operations, transaction);
 * `context.dryRun` makes it record instead of change. This class only composes the parts: layout
 * reads, the base and layer lifecycle, and the boot verbs.
 */
@injectable()
export class ImageEngine extends AdminEngine {
  protected readonly admin: AdminParts;
  private readonly queries: LayoutQueries;
  private readonly lifecycle: Lifecycle;
  private readonly boot: BootVerbs;
  private readonly recovery: HostRecovery;
  private readonly volumes: VolumeManager;
  private readonly updater: Update;
  private readonly rollbacks: Rollback;
  private readonly pins: Pins;
  private readonly adoption: Adoption;
  private readonly trials: TrialVerbs;
  private readonly entries: BootEntries;

  constructor(
    @inject(VolumeManager) volumes: VolumeManager,
    @inject(FilesystemDriver) filesystem: FilesystemDriver,
    @inject(HostInfo) host: HostInfo,
    @inject(OperationLock) lock: OperationLock,
    @inject(BootloaderSelection, { isOptional: true }) bootloaders?: BootloaderSelection,
    @inject(PersistenceSelection, { isOptional: true }) persistence?: PersistenceSelection,
    @inject(ImageSource, { isOptional: true }) images?: ImageSource,
    @inject(ImageInstaller, { isOptional: true }) installer?: ImageInstaller,
    @inject(ImgbasedConfig, { isOptional: true }) config?: ImgbasedConfig,
    @inject(HostMounts, { isOptional: true }) mounts?: HostMounts,
    @inject(HostFiles, { isOptional: true }) files?: HostFiles,
    @inject(TreeReader, { isOptional: true }) trees?: TreeReader,
    @inject(TrialChecker, { isOptional: true }) checker?: TrialChecker,
    @inject(HostPower, { isOptional: true }) power?: HostPower,
  ) {
    super();
    this.volumes = volumes;
    this.recovery = new HostRecovery(volumes, filesystem, bootloaders);
    const path = new ChangePath(volumes, lock, this.recovery);
    const entries = new BootEntries(filesystem, host, bootloaders, volumes);
    const steps = new VolumeSteps(volumes, filesystem, host);
    this.queries = new LayoutQueries(volumes, host);
    this.entries = entries;
    const trialSettings = config?.trial ?? DEFAULT_TRIAL_SETTINGS;
    const trialBoot = { tries: trialSettings.tries, onFailure: trialSettings.on_failure };
    this.lifecycle = new Lifecycle(path, steps, entries, filesystem, host, trialBoot);
    this.boot = new BootVerbs(path, this.queries, entries);
    const updateSteps = new UpdateSteps(volumes, filesystem, host, entries, persistence);
    this.updater = new Update(path, volumes, steps, entries, updateSteps, host, {
      images,
      installer,
      imagesToKeep: config?.update.images_to_keep ?? 2,
      bootDir: config?.bootloader.boot_dir ?? '/boot',
      trial: trialOptions(trialSettings),
      recorder: files && new UpdateRecorder(filesystem, files),
    });
    this.rollbacks = new Rollback(path, entries, host);
    this.pins = new Pins(path, volumes);
    this.adoption = new Adoption(path, volumes, host);
    const health = async (c: OperationContext) => (await this.check(c)).health;
    this.trials = new TrialVerbs(path, this.queries, entries, trialSettings, { checker, power, health });
    this.admin = {
      ...{ volumes, filesystem, host, lock, bootloaders, mounts, files, trees, recovery: this.recovery },
      ...{ path, entries, steps, check: config?.check ?? DEFAULT_CHECK_SETTINGS },
    };
  }

  // ---- reading ----

  /** The whole layout, each layer with its boot state; throws NoLayoutError when the host has none. */
  async layout(context: OperationContext = {}): Promise<LayoutView> {
    const layout = await this.queries.layout(context);
    return withBootStates(layout, await this.entries.bootloader(context), context);
  }

  latestBase(context?: OperationContext): Promise<BaseView> {
    return this.queries.latestBase(context);
  }

  latestLayer(context?: OperationContext): Promise<LayerView> {
    return this.queries.latestLayer(context);
  }

  baseOfLayer(name: string, context?: OperationContext): Promise<BaseView> {
    return this.queries.baseOfLayer(name, context);
  }

  /** The layer mounted at `/`. */
  currentLayer(context?: OperationContext): Promise<LayerView> {
    return this.queries.currentLayer(context);
  }

  /** The device path of a base or layer. */
  volumePath(name: string, context?: OperationContext): Promise<string> {
    return this.queries.volumePath(name, context);
  }

  freeSpace(context?: OperationContext): Promise<FreeSpace> {
    return this.queries.freeSpace(context);
  }

  /**
   * What recovery would repair now (the next changing verb does it first): leftover mounts, boot
   * entries, default, one-shot and boot files of layers that are not committed, half-made volumes.
   * Reads only; takes no lock, so a live operation's own half-made state may show.
   */
  async recoveryPlan(context: OperationContext = {}): Promise<RecoveryPlan> {
    return this.recovery.plan(await this.volumes.report(context), context);
  }

  // ---- changing ----

  /** Tags the volume group and pool of `from`, and makes the first base (a snapshot of it) and its first layer. */
  initLayout(request: InitLayoutRequest, context: OperationContext = {}): Promise<ChangeResult> {
    return this.lifecycle.initLayout(request, context);
  }

  /** A new, read-only base: from an ext4 image, or empty. */
  addBase(request: AddBaseRequest, context: OperationContext = {}): Promise<ChangeResult> {
    return this.lifecycle.addBase(request, context);
  }

  /** Removes a base and all its layers (and their boot entries); refuses the base of the running layer. */
  removeBase(name: string, context: OperationContext = {}): Promise<ChangeResult> {
    return this.lifecycle.removeBase(name, context);
  }

  /** A new writable layer, with its boot entry: a thin snapshot of a layer, or of a base's newest layer. */
  addLayer(request: AddLayerRequest = {}, context: OperationContext = {}): Promise<ChangeResult> {
    return this.lifecycle.addLayer(request, context);
  }

  /** Keeps a base from garbage collection (`pinned`), or lets it go again. */
  pinBase(name: string, pinned: boolean, context: OperationContext = {}): Promise<PinChange> {
    return this.pins.setPinned(name, pinned, context);
  }

  /** Brings a layout the original laid out to imgbased's conventions (see planAdoption), undoably. */
  adoptLayout(context: OperationContext = {}): Promise<AdoptResult> {
    return this.adoption.adopt(context);
  }

  // ---- updates ----

  /** Installs an image as a new base, carries the admin's state into its first layer, boots it next (see Update). */
  update(request: UpdateRequest, context: OperationContext = {}): Promise<UpdateResult> {
    return this.updater.update(request, context);
  }

  /** The default boot entry goes back to the previous base's newest layer, or to `request.to`. */
  rollback(request: RollbackRequest = {}, context: OperationContext = {}): Promise<RollbackResult> {
    return this.rollbacks.rollback(request, context);
  }

  // ---- boot entries ----

  /** The installed boot entries, the default and the one-shot; an empty list when no bootloader is present. */
  bootList(context: OperationContext = {}): Promise<BootList> {
    return this.boot.bootList(context);
  }

  bootDefault(context: OperationContext = {}): Promise<BootDefault> {
    return this.boot.bootDefault(context);
  }

  /** Makes `layer` the default boot entry. */
  setDefaultBoot(layer: string, context: OperationContext = {}): Promise<BootDefaultChange> {
    return this.boot.setDefaultBoot(layer, context);
  }

  /** `boot --set-default LAYER --trial`: boots `layer` next as a trial; the default stays until it proves itself. */
  setDefaultBootAsTrial(layer: string, context: OperationContext = {}): Promise<BootDefaultChange> {
    return this.trials.setDefaultAsTrial(layer, context);
  }

  /** Boots `layer` once, at the next boot only (where the bootloader supports it). */
  setNextBoot(layer: string, context: OperationContext = {}): Promise<BootChange> {
    return this.boot.setNextBoot(layer, context);
  }

  /** The kernel arguments of `layer`'s boot entry. */
  kernelArgs(layer: string, context: OperationContext = {}): Promise<KernelArgs> {
    return this.boot.kernelArgs(layer, context);
  }

  /** Appends and deletes kernel arguments of `layer`'s entry (see BootVerbs.editKernelArgs). */
  editKernelArgs(layer: string, edit: KernelArgsEdit, context: OperationContext = {}): Promise<KernelArgsChange> {
    return this.boot.editKernelArgs(layer, edit, context);
  }

  // ---- trial boots (docs/trial-boots.md) ----

  trialStatus(context: OperationContext = {}): Promise<TrialStatus> {
    return this.trials.trialStatus(context);
  }

  /** Boots `layer` as a trial; it becomes the default only once its checks pass. */
  bootTrial(layer: string, context: OperationContext = {}): Promise<TrialChange> {
    return this.trials.bootTrial(layer, context);
  }

  markGood(layer: string | undefined, context: OperationContext = {}): Promise<TrialChange> {
    return this.trials.markGood(layer, context);
  }

  markBad(layer: string, reason: string | undefined, context: OperationContext = {}): Promise<TrialChange> {
    return this.trials.markBad(layer, reason, context);
  }

  /** The check service's run on this boot (imgbased-boot-check.service). */
  checkTrial(context: OperationContext = {}): Promise<TrialCheck> {
    return this.trials.checkTrial(context);
  }
}
