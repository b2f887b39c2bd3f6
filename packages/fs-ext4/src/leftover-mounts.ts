import type { CommandRunner, LeftoverMount, OperationContext } from '@imgbased/core';

/**
 * Every mount of `withMounted` sits on `<tmpdir>/imgbased-mnt-<pid>-XXXXXX/root`: the prefix marks it
 * as imgbased's own, the pid names the process that made it. A process killed inside `withMounted`
 * leaves its mount behind (a read-only one blocks `lvremove` of the volume just as well); recovery finds
 * those by their name, whatever TMPDIR the killed process had, and never one of a live process.
 */
export const MOUNT_DIR_PREFIX = 'imgbased-mnt-';

/** The prefix of this process's mount directories (mkdtemp adds the random part). */
export function mountDirPrefix(): string {
  return `${MOUNT_DIR_PREFIX}${process.pid}-`;
}

const OWN_MOUNT = /\/imgbased-mnt-(?:(\d+)-)?[^/]+\/root$/;

/** The mounts of imgbased processes that are gone, from `findmnt -rn -o TARGET,SOURCE`. */
export async function findLeftoverMounts(runner: CommandRunner, context?: OperationContext): Promise<LeftoverMount[]> {
  const result = await runner.run(
    { argv: ['findmnt', '-rn', '-o', 'TARGET,SOURCE'], mutates: false, okExitCodes: [0, 1] },
    context,
  );
  const leftovers: LeftoverMount[] = [];
  for (const line of result.stdout.split('\n')) {
    const [target, source] = line.split(' ').map(unescapeFindmnt);
    if (target === undefined || source === undefined) continue;
    const match = OWN_MOUNT.exec(target);
    if (!match) continue;
    // A directory without a pid was made by an older imgbased: under the lock, none of those is live.
    const pid = match[1] === undefined ? undefined : Number(match[1]);
    if (pid !== undefined && isAlive(pid)) continue;
    leftovers.push({ directory: target, source });
  }
  // Innermost first: a mount on top of another comes off before it.
  return leftovers.reverse();
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** findmnt -r writes blanks and other special characters as `\xHH`. */
function unescapeFindmnt(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (_all, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}
