import type { OperationContext } from '../../events.js';
import type { CheckReport, Motd } from '../../layout/admin-schema.js';
import { step } from '../change-path.js';
import { Transaction } from '../transaction.js';
import { check } from './check.js';
import { readHostState } from './host-state.js';
import { type AdminParts, required } from './parts.js';

/** Where `imgbase motd --update` writes its line (pam_motd shows /etc/motd.d/*). */
export const MOTD_FILE = '/etc/motd.d/50-imgbased';

/** The one status line: OK with the running layer, or DEGRADED/FAILED with the first reason. */
export function motdLine(report: CheckReport, running: string | null): string {
  const where = running === null ? '' : ` (running ${running})`;
  if (report.health === 'ok') return `imgbased: OK${where}`;
  const worst = report.health === 'failed' ? 'fail' : 'warn';
  const reasons = report.findings.filter((f) => f.status === worst);
  const more = reasons.length > 1 ? ` (+${reasons.length - 1} more)` : '';
  return `imgbased: ${report.health.toUpperCase()}${where}: ${reasons[0]!.message}${more}; see 'imgbase check'`;
}

/**
 * `imgbase motd [--update]`: the line, and with `update` the file rewritten (under the lock, only when
 * it changes). It takes the lock but not the change path: a motd refresh never repairs anything
 * (that would hide what check reports).
 */
export async function motd(parts: AdminParts, update: boolean, context: OperationContext): Promise<Motd> {
  const state = await readHostState(parts, context);
  const report = await check(parts, context, state);
  const line = motdLine(report, state.running?.name ?? null);
  if (!update) return { dryRun: Boolean(context.dryRun), health: report.health, line, file: null, changed: false };
  const files = required(parts.files, 'HostFiles');
  const held = context.dryRun ? undefined : await parts.lock.acquire('motd --update');
  try {
    const changed = (await files.readText(MOTD_FILE, context)) !== `${line}\n`;
    const tx = new Transaction(context);
    if (context.dryRun) step(tx, 'motd', `Would write ${MOTD_FILE}: ${line}`);
    else if (changed) {
      step(tx, 'motd', `Writing ${MOTD_FILE}`);
      await files.writeText(MOTD_FILE, `${line}\n`, context);
    }
    return { dryRun: Boolean(context.dryRun), health: report.health, line, file: MOTD_FILE, changed };
  } finally {
    await held?.release();
  }
}
