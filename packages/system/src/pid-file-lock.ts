import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type HeldLock,
  ImgbasedError,
  InternalError,
  LockedError,
  type LockState,
  type OperationLock,
} from '@imgbased/core';
import { inject, injectable } from 'tsyringe';

/** The directory that holds the lock file (`[core] lock_dir`, default /run/imgbased). */
export const LockDirectory = Symbol.for('imgbased.LockDirectory');

/** What the lock file holds. */
export interface LockHolder {
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22); tells a reused pid apart. */
  readonly startTime: number | null;
  readonly purpose: string;
  /** ISO time the lock was taken. */
  readonly since: string;
}

const MAX_ATTEMPTS = 5;
/** How long to wait for another process that is removing a stale lock. */
const BREAKER_WAIT_MS = 2000;

/**
 * The operation lock as a pid file, `<lock_dir>/lock`. Node has no flock(2), so the file is made
 * atomically instead: the holder is written whole to a temporary file in the same directory, which is
 * then hard-linked to the lock's name (link(2) fails if the name exists, and the lock is never seen
 * half-written).
 *
 * A lock whose process is gone, or whose pid now belongs to another process (its start time differs),
 * or that holds no valid holder, is stale. Stale locks are removed only while holding a second,
 * short-lived lock made the same way, `<lock_dir>/lock.break`, and only if the lock still holds the
 * very content judged stale: breakers take turns, the dead holder cannot release, and so no live lock
 * is ever removed by mistake. A `lock.break` left by a process that died while breaking is itself
 * removed once its holder is seen dead; two processes doing that at the same moment is the one race
 * left, and needs a crash inside a window of microseconds first.
 */
@injectable()
export class PidFileLock implements OperationLock {
  readonly lockPath: string;
  private readonly breakerPath: string;

  constructor(@inject(LockDirectory) private readonly directory: string) {
    this.lockPath = join(directory, 'lock');
    this.breakerPath = join(directory, 'lock.break');
  }

  async acquire(purpose: string): Promise<HeldLock> {
    try {
      return await this.tryAcquire(purpose);
    } catch (error) {
      if (error instanceof ImgbasedError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new InternalError(`Could not take the lock ${this.lockPath}: ${message}`, { cause: error });
    }
  }

  /** Who holds the lock, and whether that process is gone (a stale lock, taken over by the next acquire). */
  async inspect(): Promise<LockState | undefined> {
    const current = await readText(this.lockPath);
    if (current === undefined) return undefined;
    const holder = parseHolder(current);
    if (holder === undefined) return { path: this.lockPath, holder: '(unreadable)', stale: true };
    return { path: this.lockPath, holder: `pid ${holder.pid}: ${holder.purpose}`, stale: !(await isAlive(holder)) };
  }

  private async tryAcquire(purpose: string): Promise<HeldLock> {
    await mkdir(this.directory, { recursive: true, mode: 0o755 });
    const holder: LockHolder = {
      pid: process.pid,
      startTime: await processStartTime(process.pid),
      purpose,
      since: new Date().toISOString(),
    };
    const content = `${JSON.stringify(holder)}\n`;
    const temp = join(this.directory, `.lock.${process.pid}.${randomBytes(6).toString('hex')}`);
    await writeFile(temp, content, { flag: 'wx', mode: 0o644 });
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (await tryLink(temp, this.lockPath)) return this.held(content);
        const current = await readText(this.lockPath);
        if (current === undefined) continue; // released meanwhile
        const other = parseHolder(current);
        if (other !== undefined && (await isAlive(other))) {
          throw new LockedError(this.lockPath, `pid ${other.pid}: ${other.purpose}`);
        }
        await this.removeStale(temp, current);
      }
      throw new InternalError(`Could not take the lock ${this.lockPath}: it kept changing hands`);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Removes the lock if it still holds `staleContent`, while holding lock.break. */
  private async removeStale(temp: string, staleContent: string): Promise<void> {
    const deadline = Date.now() + BREAKER_WAIT_MS;
    while (!(await tryLink(temp, this.breakerPath))) {
      const breaker = await readText(this.breakerPath);
      if (breaker === undefined) continue;
      const breakerHolder = parseHolder(breaker);
      if (breakerHolder === undefined || !(await isAlive(breakerHolder))) {
        // Left by a process that died while breaking.
        if ((await readText(this.breakerPath)) === breaker) await unlink(this.breakerPath).catch(ignoreMissing);
        continue;
      }
      if (Date.now() > deadline) {
        throw new LockedError(this.lockPath, `pid ${breakerHolder.pid} is taking over a stale lock`);
      }
      await sleep(10 + Math.random() * 20);
    }
    try {
      if ((await readText(this.lockPath)) === staleContent) await unlink(this.lockPath).catch(ignoreMissing);
    } finally {
      await unlink(this.breakerPath).catch(ignoreMissing);
    }
  }

  private held(content: string): HeldLock {
    const lockPath = this.lockPath;
    let released = false;
    return {
      async release(): Promise<void> {
        if (released) return;
        released = true;
        if ((await readText(lockPath)) === content) await unlink(lockPath).catch(() => undefined);
      },
    };
  }
}

export function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null;
    if (value === null || typeof value !== 'object') return undefined;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return {
      pid: value.pid,
      startTime: typeof value.startTime === 'number' ? value.startTime : null,
      purpose: typeof value.purpose === 'string' ? value.purpose : '(unknown)',
      since: typeof value.since === 'string' ? value.since : '',
    };
  } catch {
    return undefined;
  }
}

/** True when the holder's process runs still (and is the same process, not a reused pid). */
async function isAlive(holder: LockHolder): Promise<boolean> {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
    // EPERM: it exists, owned by someone else.
  }
  if (holder.startTime === null) return true;
  const startTime = await processStartTime(holder.pid);
  if (startTime !== null) return startTime === holder.startTime;
  // No stat for it: either it has just exited, or /proc cannot tell (then trust kill(0)).
  return (await processStartTime(process.pid)) === null;
}

/** Field 22 of /proc/PID/stat; null where /proc cannot tell. */
export async function processStartTime(pid: number): Promise<number | null> {
  const stat = await readText(`/proc/${pid}/stat`);
  if (stat === undefined) return null;
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const value = Number(fields[19]);
  return Number.isSafeInteger(value) ? value : null;
}

/** link(2); false when the name exists already. */
async function tryLink(existing: string, name: string): Promise<boolean> {
  try {
    await link(existing, name);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
