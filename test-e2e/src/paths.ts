// Where the harness keeps things. Paths are derived from this file's location (never from a fixed
// checkout path): CI clones the repo elsewhere, and bin/vm-run runs a bundled copy from .work/build.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml')) && existsSync(path.join(dir, 'test-e2e'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`test-e2e: no repository root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const repoRoot: string = findRepoRoot();
export const e2eDir: string = path.join(repoRoot, 'test-e2e');
/**
 * Caches and scratch space; IMGBASED_E2E_WORK_DIR moves it (it must stay visible in the guest, so not
 * under /tmp, which the guest replaces with a fresh tmpfs).
 */
export const workDir: string = process.env.IMGBASED_E2E_WORK_DIR
  ? path.resolve(process.env.IMGBASED_E2E_WORK_DIR)
  : path.join(e2eDir, '.work');
/** Read-only once built: vmlinux, initramfs, fixture templates. Shared by parallel runs. */
export const cacheDir: string = path.join(workDir, 'cache');
/** Per-run scratch directories (each run owns its own). */
export const tmpDir: string = path.join(workDir, 'tmp');
export const guestInitScript: string = path.join(e2eDir, 'src', 'guest', 'init.sh');

/**
 * A fresh, private directory under test-e2e/.work/tmp. Unlike os.tmpdir(), it is visible inside the VM
 * (the guest's /tmp is a fresh tmpfs that hides the host's /tmp), so put files the guest must read here.
 */
export async function makeScratchDir(prefix = 'scratch'): Promise<string> {
  await mkdir(tmpDir, { recursive: true });
  return mkdtemp(path.join(tmpDir, `${prefix}-`));
}

const STALE_SCRATCH_MS = 6 * 3600_000;

/**
 * Remove scratch directories left by runs that died (or by tests that do not clean up) once they are
 * old enough that no live run can still own them.
 */
export async function pruneStaleScratch(): Promise<void> {
  const names = await readdir(tmpDir).catch(() => [] as string[]);
  for (const name of names) {
    const entry = path.join(tmpDir, name);
    const age = await stat(entry).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_SCRATCH_MS) await rm(entry, { recursive: true, force: true });
  }
}
