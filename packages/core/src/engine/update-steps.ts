import { composeKernelArgs, desiredFromInstalled, entryIdForLayer, entryTitle, findKernel } from '../boot/entries.js';
import type { TrialOptions } from '../boot/trial-boots.js';
import type { DesiredBootEntry } from '../contracts/bootloader.js';
import type { FilesystemDriver } from '../contracts/filesystem.js';
import type { HostInfo } from '../contracts/host.js';
import type { PersistenceReport } from '../contracts/persistence.js';
import type { PersistenceSelection } from '../contracts/plugin.js';
import { type VolumeManager, volumePath } from '../contracts/volume-manager.js';
import { emit } from '../events.js';
import type { PersistenceReportView, UpdateResult } from '../layout/update-schema.js';
import { type BootEntries, keptEntries } from './boot-entries.js';
import { step } from './change-path.js';
import type { Transaction } from './transaction.js';
import { registerTrialBoot } from './update-trial.js';

export interface CarryOverTrees {
  readonly vg: string;
  readonly oldBase: string;
  readonly oldLayer: string;
  readonly newLayer: string;
  /** The old base was active already (bases normally are not): left active afterwards. */
  readonly oldBaseActive: boolean;
  /**
   * The old layer is the running root, mounted read-write at `/`: the kernel refuses a second, read-only
   * mount of a file system mounted read-write, so it is mounted read-write again (the same file system,
   * only read by the carry-over).
   */
  readonly oldLayerRunning: boolean;
}

/** How a new layer's entry is chosen to boot: by default at once, or as a trial (docs/trial-boots.md). */
export type BootChoice = 'default' | { readonly trial: TrialOptions };

export interface UpdateBoot {
  readonly record: UpdateResult['boot'];
  /** The layer the next boot starts, when known. */
  readonly bootsNext: string | null;
  /** It boots next as a trial: the last good layer stays the default until it proves itself. */
  readonly trial: boolean;
}

/** The update's own steps past the volumes: the carry-over of the admin's state, and the new layer's entry. */
export class UpdateSteps {
  constructor(
    private readonly volumes: VolumeManager,
    private readonly filesystem: FilesystemDriver,
    private readonly host: HostInfo,
    private readonly boot: BootEntries,
    private readonly persistence: PersistenceSelection | undefined,
  ) {}

  /**
   * Runs the configured persistence plugins in order, the old base and old layer mounted read-only and
   * the new layer read-write. A conflict fails the update only under `on_conflict = fail` (the plugin
   * throws). A dry run mounts nothing and names what would run.
   */
  async carryOver(tx: Transaction, trees: CarryOverTrees): Promise<PersistenceReportView[]> {
    const configured = (await this.persistence?.select(tx.context)) ?? [];
    if (configured.length === 0) {
      emit(tx.context, {
        type: 'warning',
        message: `no persistence plugin is configured: nothing of ${trees.oldLayer} is carried over`,
      });
      return [];
    }
    if (tx.context.dryRun) {
      for (const c of configured)
        step(tx, 'persist', `Would carry ${c.policy.paths.join(', ')} over from ${trees.oldLayer} with ${c.name}`);
      return configured.map((c) =>
        reportView({
          plugin: c.name,
          dryRun: true,
          copied: [],
          merged: [],
          keptFromNewBase: [],
          deleted: [],
          conflicts: [],
        }),
      );
    }
    const dev = (name: string) => volumePath({ vg: trees.vg, name });
    const oldBase = { vg: trees.vg, name: trees.oldBase };
    // A base is inactive (activation skip): active for the carry-over only, read-only as it always is.
    if (!trees.oldBaseActive) await this.volumes.change(oldBase, { active: true }, tx.context);
    try {
      return await this.filesystem.withMounted(
        dev(trees.oldBase),
        { readOnly: true },
        (baseDir) =>
          this.filesystem.withMounted(
            dev(trees.oldLayer),
            { readOnly: !trees.oldLayerRunning },
            (layerDir) =>
              this.filesystem.withMounted(
                dev(trees.newLayer),
                { readOnly: false },
                async (newDir) => {
                  const reports: PersistenceReportView[] = [];
                  for (const c of configured) {
                    tx.checkpoint('update');
                    step(
                      tx,
                      'persist',
                      `Carrying ${c.policy.paths.join(', ')} over from ${trees.oldLayer} (${c.name})`,
                    );
                    const report = await c.persistence.carryOver(
                      {
                        oldBase: baseDir,
                        oldLayer: layerDir,
                        newLayer: newDir,
                        // Thin snapshots of one pool: the plugin may ask it what differs (thin_delta).
                        volumes: { vg: trees.vg, oldBase: trees.oldBase, oldLayer: trees.oldLayer },
                      },
                      c.policy,
                      { dryRun: false },
                      tx.context,
                    );
                    for (const conflict of report.conflicts)
                      emit(tx.context, {
                        type: 'warning',
                        message: `conflict: ${conflict.path}: ${conflict.reason} (${conflict.resolution}${conflict.savedAs ? `, other version in ${conflict.savedAs}` : ''})`,
                      });
                    reports.push(reportView(report));
                  }
                  return reports;
                },
                tx.context,
              ),
            tx.context,
          ),
        tx.context,
      );
    } finally {
      if (!trees.oldBaseActive)
        await this.volumes.change(oldBase, { active: false }, { ...tx.context, signal: undefined });
    }
  }

  /**
   * Writes the new layer's entry: the newest kernel of the new image's /boot, with the kernel arguments
   * of the source layer's entry (an admin's console=…, say) recomposed for the new layer; made the
   * default. An image without a kernel boots the source entry's kernel (with a warning). No bootloader,
   * or no kernel at all: no entry, and a warning says so.
   */
  async bootEntry(tx: Transaction, vg: string, layer: string, source: string, choice: BootChoice): Promise<UpdateBoot> {
    const bootloader = await this.boot.bootloader(tx.context);
    if (!bootloader) {
      emit(tx.context, { type: 'warning', message: `no bootloader found: no boot entry was written for ${layer}` });
      return { record: undefined, bootsNext: null, trial: false };
    }
    if (tx.context.dryRun) {
      const trial = choice !== 'default' && bootloader.trial?.() !== undefined;
      const how = trial ? 'as a trial' : 'by default';
      step(tx, 'boot', `Would write the ${bootloader.name} boot entry of ${layer} and boot it ${how}`);
      return { record: undefined, bootsNext: layer, trial };
    }
    tx.checkpoint('update');
    const state = await bootloader.state(tx.context);
    // An entry the layer has already (left by a killed run) is replaced.
    const own = keptEntries(state).filter((e) => e.layer !== layer);
    const from = state.entries.find((e) => e.layer === source);
    const write = async (entry: DesiredBootEntry) => {
      step(tx, 'boot', `Writing the ${bootloader.name} boot entry of ${layer}`);
      // Registered before the write, so that a write failing half way is undone too.
      tx.onUndo(`remove the boot entry of ${layer}`, async (c) => {
        await bootloader.writeEntries(own, { keepDefault: true, allowNoEntries: true }, c);
      });
      return (await bootloader.writeEntries([...own, entry], { keepDefault: true }, tx.context)).atomic;
    };
    let atomic = await this.filesystem.withMounted(
      volumePath({ vg, name: layer }),
      { readOnly: true },
      async (dir) => {
        const kernel = findKernel(await this.host.listDirectory(`${dir}/boot`, tx.context));
        if (kernel === undefined) return undefined;
        return write({
          layer,
          title: entryTitle(layer, kernel.version),
          version: kernel.version,
          options: composeKernelArgs({ layerArgs: from?.options ?? [], vg, layer }),
          files: {
            kernel: `${dir}/boot/${kernel.kernel}`,
            initrd: kernel.initrd === undefined ? undefined : `${dir}/boot/${kernel.initrd}`,
          },
        });
      },
      tx.context,
    );
    if (atomic === undefined) {
      if (!from) {
        emit(tx.context, {
          type: 'warning',
          message: `no kernel in the new image’s /boot and no entry of ${source}: no boot entry was written for ${layer}`,
        });
        const current = state.entries.find((e) => e.id === state.defaultId);
        return { record: undefined, bootsNext: current?.layer ?? null, trial: false };
      }
      emit(tx.context, {
        type: 'warning',
        message: `no kernel in the new image’s /boot: ${layer} boots the kernel of ${source}`,
      });
      atomic = await write(desiredFromInstalled(from, layer, vg));
    }
    const id = entryIdForLayer(layer);
    const record = { bootloader: bootloader.name, added: [id], removed: [] as string[], atomic };
    // The default moves last, in a commit step: once the volumes it names are settled, so that a kill at
    // any instant leaves a default that boots. As a trial, the default stays the last good layer and
    // the bootloader is armed to try `id` (update-trial.ts).
    const trial = choice !== 'default' && (await registerTrialBoot(tx, bootloader, layer, choice.trial));
    if (!trial) {
      tx.onCommit(`make ${id} the default`, async (c) => {
        // Not `&&=` around the call: on a non-atomic /boot or ESP (FAT) it would skip setting the default.
        const { atomic: defaultAtomic } = await bootloader.setDefault(id, c);
        record.atomic &&= defaultAtomic;
      });
    }
    return { record, bootsNext: layer, trial };
  }
}

function reportView(report: PersistenceReport): PersistenceReportView {
  return {
    plugin: report.plugin,
    copied: [...report.copied],
    merged: [...report.merged],
    keptFromNewBase: [...report.keptFromNewBase],
    deleted: [...report.deleted],
    conflicts: report.conflicts.map((c) => ({
      path: c.path,
      reason: c.reason,
      resolution: c.resolution,
      savedAs: c.savedAs ?? null,
    })),
    delta: report.delta ?? null,
  };
}
