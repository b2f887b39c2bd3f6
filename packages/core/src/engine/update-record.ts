import type { FilesystemDriver } from '../contracts/filesystem.js';
import type { HostFiles } from '../contracts/host-admin.js';
import { volumePath } from '../contracts/volume-manager.js';
import { type CarryOverSummary, LAST_UPDATE_RECORD_PATH, type UpdateRecord } from '../layout/update-record-schema.js';
import type { PersistenceReportView } from '../layout/update-schema.js';
import { step } from './change-path.js';
import type { Transaction } from './transaction.js';

/**
 * Leaves the update's record in its new layer, for `imgbase status` once the host runs from it. No undo
 * of its own: the file is inside the new layer, which an undo removes whole.
 */
export class UpdateRecorder {
  constructor(
    private readonly filesystem: FilesystemDriver,
    private readonly files: HostFiles,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async write(tx: Transaction, vg: string, record: Omit<UpdateRecord, 'time'>): Promise<void> {
    if (tx.context.dryRun) return;
    tx.checkpoint('update');
    step(tx, 'record', `Recording the update in ${record.layer}:${LAST_UPDATE_RECORD_PATH}`);
    const content = `${JSON.stringify({ time: this.now().toISOString(), ...record }, null, 2)}\n`;
    await this.filesystem.withMounted(
      volumePath({ vg, name: record.layer }),
      { readOnly: false },
      (dir) => this.files.writeText(`${dir}${LAST_UPDATE_RECORD_PATH}`, content, tx.context),
      tx.context,
    );
  }
}

/** A plugin's report as counts: what status shows of the carry-over. */
export function carryOverSummary(report: PersistenceReportView): CarryOverSummary {
  return {
    plugin: report.plugin,
    copied: report.copied.length,
    merged: report.merged.length,
    keptFromNewBase: report.keptFromNewBase.length,
    deleted: report.deleted.length,
    conflicts: report.conflicts.length,
  };
}
