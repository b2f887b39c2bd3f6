// Helpers of the daemon's tests under a real systemd (PID 1 of the VM, `init: 'systemd'`): the unit
// files installed as a package would, and one VM boot that runs a list of steps as a service.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { buildThinpHostDisk, makeScratchDir, repoRoot, runInVm } from '../../src/index.ts';
import { DAEMON } from './daemon.ts';
import type { Step, StepResult } from './scenario.ts';

export const UNITS = path.join(repoRoot, 'apps/daemon/systemd');
const RUN_STEPS = path.join(repoRoot, 'test-e2e/guest-bin/run-steps.mjs');
export const SERVICE = 'imgbased.service';
export const SOCKET = 'imgbased.socket';

/**
 * Test plumbing the unit's sandbox must let through (its private /tmp hides /tmp from the daemon): a
 * tune2fs that hangs while SHIM_DIR/slow exists and says so in SHIM_DIR/in-tune2fs.
 */
export const SHIM_DIR = '/run/e2e-shim';
const SHIM_PATH = `${SHIM_DIR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** The unit files as a package installs them; the drop-in only runs the checkout's daemon (and the shim). */
export const INSTALL = [
  'set -e',
  `mkdir -p ${SHIM_DIR}/bin && printf '#!/bin/sh\\n[ -e ${SHIM_DIR}/slow ] && touch ${SHIM_DIR}/in-tune2fs && sleep 120 >/dev/null 2>&1\\nexec /sbin/tune2fs "$@"\\n' > ${SHIM_DIR}/bin/tune2fs && chmod +x ${SHIM_DIR}/bin/tune2fs`,
  `install -m 0644 ${UNITS}/${SERVICE} ${UNITS}/${SOCKET} /etc/systemd/system/`,
  `mkdir -p /etc/systemd/system/${SERVICE}.d`,
  // A checkout under /tmp (CI clones anywhere) is hidden by the unit's private /tmp: bind it back in.
  `printf '[Service]\\nExecStart=\\nExecStart=${DAEMON}\\nEnvironment=PATH=${SHIM_PATH}\\nReadWritePaths=${SHIM_DIR}\\nBindReadOnlyPaths=${repoRoot}\\n' > /etc/systemd/system/${SERVICE}.d/checkout.conf`,
  `install -m 0644 ${UNITS}/imgbased.sysusers.conf /usr/lib/sysusers.d/imgbased.conf`,
  // What a package's scripts do: make the group, load the units, enable and start the socket.
  'systemd-sysusers imgbased.conf',
  'systemctl daemon-reload',
  `systemctl enable --now ${SOCKET}`,
].join('\n');

/** `systemctl show -p A,B UNIT…` → one record per unit. */
export function show(result: StepResult): Record<string, string>[] {
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout
    .trim()
    .split('\n\n')
    .map((block) =>
      Object.fromEntries(
        block.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      ),
    );
}
export const showStep = (properties: string, ...units: string[]) => ['systemctl', 'show', '-p', properties, ...units];

/**
 * Like runScenario, on a fresh thinp host disk, but with systemd as PID 1; `setup` steps run first
 * (after the VG is activated) and must succeed. One boot also checks the harness's mode itself: the
 * command (run-steps, then a last word on stderr and exit code 7) ran as a service of systemd, and its
 * stdout, stderr and exit code came back as without systemd.
 */
export async function runUnderSystemd(
  steps: (Step | string[])[],
  setup: (Step | string[])[] = [],
): Promise<{ step(index: number): StepResult }> {
  const dir = await makeScratchDir('daemon-systemd');
  try {
    const disk = await buildThinpHostDisk(path.join(dir, 'host.img'));
    const first = [{ argv: ['lvm', 'vgchange', '-ay', 'onn'] }, ...setup];
    const all = [...first, ...steps].map((s) => (Array.isArray(s) ? { argv: s } : s));
    const run = await runInVm({
      command: ['sh', '-c', 'node "$0" "$1"; echo "run-steps: $?" >&2; exit 7', RUN_STEPS, JSON.stringify(all)],
      disks: [{ path: disk.path }],
      init: 'systemd',
      timeoutMs: 480_000,
    });
    expect(run.stderr, run.consoleTail).toBe('run-steps: 0\n');
    expect(run.exitCode).toBe(7);
    const results = JSON.parse(run.stdout) as StepResult[];
    for (const result of results.slice(0, first.length)) expect(result.exitCode, result.stderr).toBe(0);
    return { step: (index) => results[index + first.length]! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
