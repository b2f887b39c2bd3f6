// `pnpm demo`: boots a VM with Debian's kernel on a fresh disk laid out like an installed host
// (autopart --type=thinp), and walks imgbased's lifecycle with the real `imgbase` and real LVM thin,
// printing what an admin would see at each step.
import path from 'node:path';
import { buildBaseImage, buildThinpHostDisk, makeScratchDir, repoRoot, runInVm } from '../src/index.ts';
import { updateDemo } from './update-demo.ts';

interface DemoStep {
  /** What the step shows, in one line. */
  say: string;
  argv: string[];
}

interface StepResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

// The host's /boot partition (/dev/vda1) gets extlinux and the running kernel, as an installed host's
// /boot has: the root volume holds no kernel, so each layer's entry boots the running one.
const BOOT_SETUP = `set -e
k=$(uname -r); mkdir -p /tmp/kernel; cp /boot/vmlinuz-$k /tmp/kernel/
cp /boot/initrd.img-$k /tmp/kernel/ 2>/dev/null || true
mount /dev/vda1 /boot && cp /tmp/kernel/* /boot/
mkdir -p /boot/extlinux && extlinux --install /boot/extlinux >/dev/null 2>&1
printf '[bootloader]\\nplugins = extlinux\\nboot_dir = /boot\\n' > /etc/imgbased.conf`;

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

async function main(): Promise<number> {
  const started = Date.now();
  console.log(bold('imgbased demo: real LVM thin, real ext4, real kernel (qemu)'));
  const dir = await makeScratchDir('demo');
  console.log('Preparing a disk laid out like a host installed with `autopart --type=thinp`…');
  const host = await buildThinpHostDisk(path.join(dir, 'host.img'));
  const image = await buildBaseImage(path.join(dir, 'Node-4.6-0.1.ext4'), { nvr: 'Node-4.6-0.1' });

  const lvs = ['lvm', 'lvs', '-o', 'lv_name,lv_attr,origin,lv_tags,data_percent', host.vg];
  const steps: DemoStep[] = [
    {
      say: 'The host as installed: a thin pool with the root volume',
      argv: ['lvm', 'lvs', '-o', 'lv_name,lv_attr,pool_lv,lv_size', host.vg],
    },
    {
      say: 'Adopt it: the running root becomes the first base, with a first writable layer',
      argv: ['imgbase', 'layout', '--init', 'Node-4.5-0.1', '--from', `${host.vg}/${host.rootLv}`],
    },
    { say: 'The layout, as a tree', argv: ['imgbase', 'layout'] },
    {
      say: 'A new OS image arrives: install it as a read-only base',
      argv: ['imgbase', 'base', '--add', 'Node-4.6-0.1', '--size', '1G', image],
    },
    { say: 'Give the new base its first writable layer', argv: ['imgbase', 'layer', '--add'] },
    { say: 'Another layer on the old base, for an experiment', argv: ['imgbase', 'layer', '--add', 'Node-4.5-0.1'] },
    {
      say: 'Every layer got a boot entry (extlinux on /boot); the newest layer is the default (*)',
      argv: ['imgbase', 'boot', '--list'],
    },
    {
      say: 'Boot the new base’s layer by default, with a kernel argument of its own',
      argv: ['imgbase', 'boot', '--set-default', 'Node-4.6-0.1+1'],
    },
    {
      say: '…the argument, added to that layer’s entry only',
      argv: ['imgbase', 'boot', '--edit-kernel-args', 'Node-4.6-0.1+1', '--append', 'console=ttyS0,115200'],
    },
    {
      say: 'What would one more layer do? A dry run prints the exact commands and changes nothing',
      argv: ['imgbase', 'layer', '--add', '--dry-run'],
    },
    {
      say: 'Bad input is refused with a typed error and changes nothing',
      argv: ['imgbase', 'base', '--add', 'Node 4.7', '--size', '1G'],
    },
    { say: 'The layout now', argv: ['imgbase', 'layout'] },
    { say: 'Which base is newest, where is a layer', argv: ['imgbase', 'base', '--latest'] },
    { say: '…and its device', argv: ['imgbase', 'layer', '--volume-path', 'Node-4.6-0.1+1'] },
    { say: 'What LVM itself says: bases read-only (r) and skipped at activation (k), layers are snapshots', argv: lvs },
    {
      say: 'Each layer has a file system UUID of its own',
      argv: [
        'blkid',
        '-s',
        'UUID',
        `/dev/${host.vg}/Node-4.5-0.1+1`,
        `/dev/${host.vg}/Node-4.5-0.1+2`,
        `/dev/${host.vg}/Node-4.6-0.1+1`,
      ],
    },
    {
      say: 'Retire the old base with its layers (garbage collection does this after updates)',
      argv: ['imgbase', 'base', '--remove', 'Node-4.5-0.1'],
    },
    {
      say: 'Its layers’ boot entries went with it; what extlinux will boot now',
      argv: ['imgbase', 'boot', '--list'],
    },
    {
      say: '…as extlinux itself reads it',
      argv: ['grep', '-E', '^(DEFAULT|LABEL|\\s*APPEND)', '/boot/extlinux/extlinux.conf'],
    },
    {
      say: 'Machine-readable: every verb answers --json (schema version 1)',
      argv: ['imgbase', 'layout', '--layers', '--json'],
    },
    { say: 'Free space left in the thin pool (MiB)', argv: ['imgbase', 'layout', '--free-space'] },
  ];

  console.log('Booting the VM and running the session (software emulation: this takes a minute or two)…\n');
  const run = await runInVm({
    command: [
      'node',
      path.join(repoRoot, 'test-e2e/guest-bin/run-steps.mjs'),
      JSON.stringify([
        { argv: ['lvm', 'vgchange', '-ay', host.vg] },
        { argv: ['sh', '-c', BOOT_SETUP] },
        ...steps.map((s) => ({ argv: s.argv })),
      ]),
    ],
    disks: [{ path: host.path }],
    timeoutMs: 600_000,
  });
  if (run.exitCode !== 0) {
    console.error(`The VM's session failed (exit ${run.exitCode}):\n${run.stderr}\n${run.consoleTail}`);
    return 1;
  }
  const setup = JSON.parse(run.stdout) as StepResult[];
  const failedSetup = setup.slice(0, 2).find((r) => r.exitCode !== 0);
  if (failedSetup) {
    console.error(`Preparing the VM failed:\n${failedSetup.stderr}`);
    return 1;
  }
  const results = setup.slice(2);
  let unexpected = 0;
  steps.forEach((step, i) => {
    const result = results[i]!;
    console.log(bold(`## ${step.say}`));
    console.log(
      `# ${step.argv.map((a) => (a === image ? path.basename(a) : /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ')}`,
    );
    if (result.stdout) process.stdout.write(result.stdout.replaceAll(image, path.basename(image)));
    if (result.stderr) process.stdout.write(result.stderr);
    const expectedFailure = step.argv.includes('Node 4.7');
    if ((result.exitCode !== 0) !== expectedFailure) unexpected++;
    if (result.exitCode !== 0) console.log(`(exit code ${result.exitCode})`);
    console.log('');
  });
  unexpected += await updateDemo(bold);
  console.log(
    `Done in ${Math.round((Date.now() - started) / 1000)} s${unexpected ? `, ${unexpected} step(s) did not behave as expected` : ''}.`,
  );
  return unexpected ? 1 : 0;
}

process.exitCode = await main();
