import { readdir, stat } from 'node:fs/promises';
import type { CommandRunner, HeldLock, LockState, OperationLock } from '@imgbased/core';

/**
 * Counts the changes made through this daemon's engine. It only grows: a cached answer carries the
 * count it was read under, and any other count means a change began or ended since.
 */
export class ChangeCounter {
  private count = 0;

  get value(): number {
    return this.count;
  }

  bump(): void {
    this.count++;
  }
}

/**
 * The engine's operation lock, counting: every change (each verb on the change path, `motd --update`)
 * takes it, so taking it and letting it go both bump the counter. The bump on release comes after the
 * inner lock is released, so by the time a caller can see the change finished, the count has moved.
 */
export class CountingLock implements OperationLock {
  readonly inspect?: () => Promise<LockState | undefined>;

  constructor(
    private readonly inner: OperationLock,
    private readonly changes: ChangeCounter,
  ) {
    if (inner.inspect) this.inspect = () => inner.inspect!();
  }

  async acquire(purpose: string): Promise<HeldLock> {
    const held = await this.inner.acquire(purpose);
    this.changes.bump();
    return {
      release: async () => {
        try {
          await held.release();
        } finally {
          this.changes.bump();
        }
      },
    };
  }
}

/**
 * One `lvm lvs` of the thin pools only: every volume group's metadata sequence number (bumped by any
 * change to its metadata: lvcreate, lvremove, tags, renames, whoever makes them) and each pool's data
 * and metadata usage (the layout's free space moves with every write, without a new seqno). A
 * volume group with no thin pool cannot hold a layout, so it is not needed.
 */
export const LVM_STATE_ARGV = [
  'lvm',
  'lvs',
  '--noheadings',
  '--separator',
  '|',
  '-o',
  'vg_name,vg_seqno,lv_name,data_percent,metadata_percent',
  '-S',
  'segtype=thin-pool',
] as const;

export interface HostStateSources {
  readonly runner: CommandRunner;
  /** `[core] lock_dir`: every imgbase process, this daemon or the CLI, takes its lock there to change anything. */
  readonly lockDir: string;
  /** The active device-mapper devices (default: the names in /dev/mapper). */
  readonly mapperDevices?: () => Promise<string[]>;
}

/**
 * The host's state as far as the layout shows it, as one text: equal texts mean no change. It is
 * - the thin pools' `lvs` (LVM_STATE_ARGV): any metadata change, by anyone, and the pools' usage;
 * - the active device-mapper devices: activation changes no metadata; listing a directory costs no process;
 * - the lock directory's mtime and ctime: the lock file is made and removed there around every change any
 *   imgbase process makes (the CLI's too), so changes outside LVM (trial-boot records, boot entries)
 *   made by imgbase show, even from another process. A change takes far longer than the clock's tick
 *   that stamps the directory, so it cannot begin and end unseen between two probes.
 */
export function hostState(sources: HostStateSources): () => Promise<string> {
  const mapperDevices = sources.mapperDevices ?? listMapperDevices;
  return async () => {
    const [report, devices, lockDir] = await Promise.all([
      sources.runner.run({ argv: LVM_STATE_ARGV, mutates: false }),
      mapperDevices(),
      directoryStamp(sources.lockDir),
    ]);
    return `${report.stdout.trim()}\n${devices.sort().join(' ')}\n${lockDir}`;
  };
}

async function directoryStamp(directory: string): Promise<string> {
  try {
    const { mtimeNs, ctimeNs } = await stat(directory, { bigint: true });
    return `${mtimeNs}/${ctimeNs}`;
  } catch {
    return 'absent'; // made by the first lock ever taken: that changes the stamp too
  }
}

async function listMapperDevices(): Promise<string[]> {
  try {
    return await readdir('/dev/mapper');
  } catch {
    return []; // no device-mapper devices at all
  }
}
