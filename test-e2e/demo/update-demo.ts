// The update part of `pnpm demo`: a host whose admin changed /etc, an update from a new OS image with
// its carry-over report, the new layer booting as a trial (what the booted system says about itself),
// and a rollback that ends the trial. On a disk of its own, prepared as the update e2e tests prepare theirs.
import path from 'node:path';
import { bootDisk, repoRoot, runInVm } from '../src/index.ts';
import {
  buildUpdateImage,
  CLOSE,
  OPEN,
  parseUpdateProof,
  prepareUpdateDisk,
} from '../tests/support/update-scenario.ts';

const IMGBASE = path.join(repoRoot, 'apps/cli/bin/imgbase');

/** Runs `script` in the harness VM; returns its output, or undefined (printed) when it failed. */
async function session(disk: string, script: string): Promise<string | undefined> {
  const run = await runInVm({
    command: ['sh', '-c', `set -e\n${script}`],
    disks: [{ path: disk }],
    timeoutMs: 600_000,
  });
  if (run.exitCode === 0) return run.stdout;
  console.error(`The VM's session failed (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}\n${run.consoleTail}`);
  return undefined;
}

/** A shell line that prints `# COMMAND` (with the image's path shortened), then runs it with its stderr. */
function show(say: string, command: string, image: string): string {
  const shown = command.replaceAll(IMGBASE, 'imgbase').replaceAll(image, path.basename(image));
  return `echo; echo '## ${say}'; echo '# ${shown}'; ${command} 2>&1`;
}

/** The update session; returns the number of steps that did not behave as expected. */
export async function updateDemo(bold: (text: string) => string): Promise<number> {
  console.log(bold('# Updating the host to a new OS image'));
  console.log('Preparing a host whose admin changed /etc, and a squashfs image of the next release…');
  const { disk, dir, setup } = await prepareUpdateDisk('demo-update');
  const image = await buildUpdateImage(path.join(dir, 'Node-4.6-0.1.squashfs'), {
    nvr: 'Node-4.6-0.1',
    format: 'squashfs',
  });
  const steps = [
    show(
      'What the admin changed in the running layer (against its base)',
      'cat /mnt/l/etc/admin-new.conf /mnt/l/etc/hostname',
      image,
    ),
    show(
      'What would the update do? A dry run plans the space and the commands',
      `${IMGBASE} update --dry-run ${image} | head -12`,
      image,
    ),
    show(
      'Update: the image becomes a base, the admin’s state is carried into its first layer, which boots next as a trial',
      `${IMGBASE} update ${image}`,
      image,
    ),
    show(
      'The layout and the boot entries now: the old layer stays the default (*) until the new one proves itself',
      `${IMGBASE} layout && ${IMGBASE} boot --list`,
      image,
    ),
  ];
  let unexpected = 0;
  const out = await session(
    disk,
    `${setup.replace(/umount \/mnt\/l$/, '')}\n${steps[0]}\numount /mnt/l\n${steps.slice(1).join('\n')}\n${CLOSE}`,
  );
  if (out === undefined) return 1;
  process.stdout.write(`${out.replaceAll(image, path.basename(image))}\n`);

  if (!out.includes('Node-4.6-0.1+1 boots next as a trial')) unexpected++;
  console.log(bold('## Reboot: the machine boots the new layer on trial (SeaBIOS, extlinux, the image’s kernel)'));
  const booted = await bootDisk({ disk, firmware: 'seabios' });
  const proof = parseUpdateProof(booted.console);
  console.log(`booted ${booted.proof?.rootDevice ?? '(nothing)'}; the booted system says:`);
  for (const [key, value] of Object.entries(proof)) console.log(`  ${key}: ${value}`);
  if (booted.proof?.rootDevice !== '/dev/onn/Node-4.6-0.1+1') unexpected++;

  const rolled = await session(
    disk,
    [
      OPEN,
      show(
        'The trial: its own check service would mark it good; this one never checks in',
        `${IMGBASE} boot --trial-status`,
        image,
      ),
      show('Something is wrong with the new release: roll back (the trial ends)', `${IMGBASE} rollback`, image),
      show('The trial’s verdict, with the reason', `${IMGBASE} boot --trial-status`, image),
      CLOSE,
    ].join('\n'),
  );
  if (rolled === undefined) return unexpected + 1;
  process.stdout.write(`${rolled}\n`);
  if (!rolled.includes('Trial: Node-4.6-0.1+1 (falls back to Base-1-0+1')) unexpected++;
  if (!rolled.includes('Base-1-0+1 boots next')) unexpected++;
  if (!rolled.includes('Node-4.6-0.1+1  failed at ')) unexpected++;
  return unexpected;
}
