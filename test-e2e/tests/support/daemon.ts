// Helpers of the daemon's end-to-end tests: start `imgbased` in the background inside the VM, talk to
// it with the real curl over its Unix socket. Shell snippets are test plumbing only (starting a
// background process, pipes); what is under test runs as its own program.
import path from 'node:path';
import { repoRoot } from '../../src/index.ts';
import { type Step, sh } from './scenario.ts';

export const DAEMON = path.join(repoRoot, 'apps/daemon/bin/imgbased');
export const IMGBASE_BIN = path.join(repoRoot, 'apps/cli/bin/imgbase');
export const SOCK = '/run/imgbased/imgbased.sock';
export const SHIM_PATH = '/tmp/shim:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Starts the daemon in the background (its log in /tmp/daemon.log) and waits until it answers. */
export function startDaemon(env: Record<string, string> = {}): Step {
  const assignments = Object.entries(env)
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  return sh(
    [
      `env ${assignments} node ${DAEMON} --socket ${SOCK} </dev/null >>/tmp/daemon.log 2>&1 & echo $! > /tmp/daemon.pid`,
      `for i in $(seq 300); do curl -sf --unix-socket ${SOCK} http://localhost/v1/openapi.json >/dev/null && exit 0; sleep 0.1; done`,
      'cat /tmp/daemon.log >&2; exit 1',
    ].join('; '),
  );
}

/** SIGTERM to the daemon; waits for it to exit and prints its exit status. */
export const stopDaemon: Step = sh(
  'kill -TERM $(cat /tmp/daemon.pid); for i in $(seq 300); do kill -0 $(cat /tmp/daemon.pid) 2>/dev/null || break; sleep 0.1; done; kill -0 $(cat /tmp/daemon.pid) 2>/dev/null && echo still-running || echo stopped',
);

/** A curl of the API: body on stdout (with `status`: then a last line with the HTTP status). */
export function curl(
  method: string,
  url: string,
  options: { body?: string; contentType?: string; status?: boolean } = {},
): Step {
  const argv = ['curl', '-sS', '--unix-socket', SOCK, '-X', method];
  if (options.body !== undefined) {
    argv.push('-H', `content-type: ${options.contentType ?? 'application/json'}`, '--data-binary', options.body);
  }
  if (options.status) argv.push('-w', '\n%{http_code}');
  argv.push(`http://localhost${url}`);
  return { argv };
}

/** Splits the output of `curl(…, { status: true })`. */
export function withStatus(stdout: string): { status: number; body: string } {
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

/** A shell line that prints the jobId of the POST answer in FILE. */
export const jobIdOf = (file: string) => `$(sed -n 's/.*"jobId": "\\([0-9a-f]*\\)".*/\\1/p' ${file})`;

/**
 * Gives the fixture a bootloader, so that layers get boot entries: the extlinux plugin on the /boot
 * partition (vda1; ldlinux.sys is what marks extlinux as installed, nothing here boots), chosen in
 * /etc/imgbased.conf, and a kernel and initrd in the root volume's /boot for `layout --init` to find
 * (their content does not matter: they are copied, never run). Run it first, before `layout --init`.
 */
export const EXTLINUX_SETUP: Step = sh(
  [
    'mount /dev/vda1 /boot',
    'mkdir -p /boot/extlinux',
    ': > /boot/extlinux/ldlinux.sys',
    "printf '[bootloader]\\nplugins = extlinux\\nboot_dir = /boot\\n' > /etc/imgbased.conf",
    'mkdir -p /mnt/root',
    'mount /dev/onn/root /mnt/root',
    'mkdir -p /mnt/root/boot',
    'echo kernel > /mnt/root/boot/vmlinuz-6.1.0-e2e',
    'echo initrd > /mnt/root/boot/initrd.img-6.1.0-e2e',
    'umount /mnt/root',
  ].join(' && '),
);
