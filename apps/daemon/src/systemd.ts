import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { type CommandRunner, InternalError } from '@imgbased/core';

/** Where to serve: the socket systemd handed over (socket activation), or a path to bind. */
export type ListenTarget = { readonly fd: number } | { readonly path: string };

/** sd_listen_fds(3): fd 3 when LISTEN_PID is this process and LISTEN_FDS is 1. */
export function listenTarget(env: NodeJS.ProcessEnv, pid: number, socketPath: string): ListenTarget {
  if (env.LISTEN_FDS === undefined || env.LISTEN_PID !== String(pid)) return { path: socketPath };
  const count = Number(env.LISTEN_FDS);
  if (count === 1) return { fd: 3 };
  if (count === 0) return { path: socketPath };
  throw new InternalError(`systemd passed ${env.LISTEN_FDS} sockets; imgbased.socket must have exactly one`);
}

/**
 * sd_notify(3) without a native addon: Node cannot send a datagram on a Unix socket, so the message
 * goes through `systemd-notify` (the unit sets NotifyAccess=all, so a helper of the service may
 * notify; systemd-notify waits until the manager has read it, so it is not lost when the helper exits).
 * Does nothing outside systemd (no NOTIFY_SOCKET).
 */
export async function notify(runner: CommandRunner, env: NodeJS.ProcessEnv, args: readonly string[]): Promise<void> {
  if (!env.NOTIFY_SOCKET) return;
  await runner.run({ argv: ['systemd-notify', `--pid=${process.pid}`, ...args], mutates: false });
}

/** The gid of a group in /etc/group, or undefined when it does not exist. */
export async function groupId(name: string, groupFile = '/etc/group'): Promise<number | undefined> {
  const text = await readFile(groupFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** Makes the socket's directory, and removes a socket file left by a daemon that is gone. */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const stat = await lstat(path).catch(() => undefined);
  if (!stat) return;
  if (!stat.isSocket()) throw new InternalError(`${path} exists and is not a socket: remove it or choose another`);
  if (await answers(path)) throw new InternalError(`Another imgbased daemon serves ${path} already`);
  await unlink(path);
}

/** The group whose members may read through the API (and connect to its socket). */
export const SOCKET_GROUP = 'imgbased';

/** 0660 root:imgbased when the group exists, else 0600 root only. */
export async function secureSocket(path: string, group = SOCKET_GROUP): Promise<{ mode: number; gid: number | null }> {
  const gid = await groupId(group);
  if (gid === undefined) {
    await chmod(path, 0o600);
    return { mode: 0o600, gid: null };
  }
  await chown(path, 0, gid);
  await chmod(path, 0o660);
  return { mode: 0o660, gid };
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
