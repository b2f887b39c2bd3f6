// Small helpers shared by the harness: tool lookup, a cross-process lock, atomic file writes.
import { createHash, randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Tools such as modprobe, sfdisk and mkfs.ext4 live in sbin, which a non-login PATH may lack.
const SBIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of an executable, searching PATH and then the sbin directories. */
export async function which(name: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here: keep looking
    }
  }
  throw new Error(`test-e2e: '${name}' not found (run scripts/setup to install the test tools)`);
}

export function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

export function randomId(): string {
  return randomBytes(6).toString('hex');
}

/** Write a file so that readers see either nothing or the whole content (temp file + rename). */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const temp = `${file}.tmp-${process.pid}-${randomId()}`;
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}

const LOCK_STALE_MS = 15 * 60_000;
const LOCK_WAIT_MS = 20 * 60_000;

/**
 * Run `build` unless `done()` already holds, with a mkdir-based lock so that two processes starting at
 * once (vitest runs two e2e files in parallel) build a cache entry only once. Builders must still write
 * their output atomically: the lock only saves work, it is not what keeps readers safe.
 */
export async function buildOnce(lockPath: string, done: () => boolean, build: () => Promise<void>): Promise<void> {
  if (done()) return;
  await mkdir(path.dirname(lockPath), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (done()) return;
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      // A builder that died (SIGKILL) leaves its lock behind: take it over once it is clearly stale.
      if (age > LOCK_STALE_MS) await rm(lockPath, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`test-e2e: gave up waiting for lock ${lockPath}`);
      else await sleep(250);
    }
  }
  try {
    if (!done()) await build();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}

export function fileExists(file: string): boolean {
  return existsSync(file);
}

/**
 * After building `keep`, delete older cache entries of the same kind (same directory and name prefix,
 * other key) so the cache does not grow with every change of the inputs.
 */
export async function removeStaleSiblings(keep: string, prefix: string): Promise<void> {
  const dir = path.dirname(keep);
  for (const name of await readdir(dir)) {
    if (name.startsWith(prefix) && name !== path.basename(keep) && !name.includes('.lock') && !name.includes('.tmp-')) {
      await rm(path.join(dir, name), { force: true });
    }
  }
}
