import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { InternalError } from '@imgbased/core';

/** Who is at the other end of a connection, as the kernel recorded it at connect(2) (SO_PEERCRED). */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups (SO_PEERGROUPS); the primary one is `gid`. */
  readonly groups: readonly number[];
}

/** What a caller may do: `change` (root), `read` (a member of the socket's group), or nothing. */
export type Access = 'change' | 'read' | 'none';

export interface Caller extends PeerCredentials {
  readonly access: Access;
}

/** Reads a connection's peer credentials; throws when they cannot be read. */
export type PeerReader = (socket: Socket) => PeerCredentials;

interface PeercredAddon {
  peerCredentials(fd: number): PeerCredentials;
}

/**
 * The addon's file: beside the bundle (dist/), or, when running from the sources (tests),
 * apps/daemon/dist/ once `node apps/daemon/build-native.mjs` (or the build) made it.
 */
function addonPath(): string {
  const candidates = [new URL('./peercred.node', import.meta.url), new URL('../dist/peercred.node', import.meta.url)];
  const found = candidates.map((url) => fileURLToPath(url)).find((path) => existsSync(path));
  if (!found) {
    throw new InternalError(
      'The peer-credentials addon (peercred.node) is missing: build the daemon (pnpm build, or node apps/daemon/build-native.mjs)',
    );
  }
  return found;
}

/**
 * The real reader: the addon's getsockopt(SO_PEERCRED, SO_PEERGROUPS) on the connection's fd. Loaded
 * once, at start, so that a missing or broken addon stops the daemon before it serves anybody.
 */
export function loadPeerReader(path: string = addonPath()): PeerReader {
  const addon = createRequire(import.meta.url)(path) as PeercredAddon;
  return (socket) => {
    // libuv's pipe handle carries the fd; Node has no public accessor for it.
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new InternalError('The connection has no file descriptor');
    return addon.peerCredentials(fd);
  };
}

/** Root may change; root and members of `groupId` (primary or supplementary) may read. */
export function accessOf(peer: PeerCredentials, groupId: number | undefined): Access {
  if (peer.uid === 0) return 'change';
  if (groupId !== undefined && (peer.gid === groupId || peer.groups.includes(groupId))) return 'read';
  return 'none';
}

/** The journal fields that name a caller. */
export function callerFields(caller: PeerCredentials): { callerUid: number; callerPid: number; callerGid: number } {
  return { callerUid: caller.uid, callerPid: caller.pid, callerGid: caller.gid };
}
