// dist/snapshot-build.cjs BLOB: builds the CLI's start-up snapshot (snapshot.ts) into BLOB, for the Node
// that runs this and this machine. Started in the background by the plain entry when bin/imgbase found
// no snapshot for this boot, and by build.mjs. Quiet: a snapshot that cannot be made (a directory only
// root may write, say) only leaves imgbase starting the plain way.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

/** A build that left its lock older than this died: the lock is taken over. */
const STALE_LOCK_MS = 10 * 60_000;

/** Builds `blob`, unless another build of it is under way; removes everything else in its directory (other boots' snapshots). */
export function buildSnapshot(blob: string, dist: string): boolean {
  const lock = `${blob}.lock`;
  let fd: number;
  try {
    mkdirSync(path.dirname(blob), { recursive: true });
    fd = openSync(lock, 'wx');
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
      rmSync(lock, { force: true });
      fd = openSync(lock, 'wx');
    } catch {
      return false;
    }
  }
  const temporary = `${blob}.${process.pid}.tmp`;
  try {
    execFileSync(
      process.execPath,
      ['--snapshot-blob', temporary, '--build-snapshot', path.join(dist, 'snapshot.cjs')],
      // Node warns that it has not verified some builtins in snapshots (child_process, tty): they are
      // only required at build time, and used at run time.
      { stdio: 'ignore', cwd: dist },
    );
    renameSync(temporary, blob);
    const own = path.basename(blob);
    for (const name of readdirSync(path.dirname(blob))) {
      // Another boot's snapshot, or what a build that died left of it.
      if (!name.startsWith(own)) rmSync(path.join(path.dirname(blob), name), { force: true });
    }
    return true;
  } catch {
    return false;
  } finally {
    rmSync(temporary, { force: true });
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

if (require.main === module) {
  const blob = process.argv[2];
  if (blob === undefined) {
    process.stderr.write('usage: node snapshot-build.cjs BLOB\n');
    process.exitCode = 2;
  } else process.exitCode = buildSnapshot(path.resolve(blob), __dirname) ? 0 : 1;
}
