// Self-tests of the real-kernel harness: every test here boots a VM (~3-10 s each under TCG).
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBaseImage,
  buildThinpHostDisk,
  e2eDir,
  ensureVmAssets,
  makeScratchDir,
  readFileFromExt4Image,
  runInVm,
  VmError,
} from '../src/index.ts';

let scratch: string;

beforeAll(async () => {
  await ensureVmAssets();
  scratch = await makeScratchDir('harness-test');
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Exit code of `pgrep -f PATTERN`: 0 when some process matches, 1 when none does. */
async function pgrep(pattern: string): Promise<number> {
  const result = await execa('pgrep', ['-f', pattern], { reject: false });
  return result.exitCode ?? -1;
}

interface LvsReport {
  report: { lv: Record<string, string>[] }[];
}

function parseLvs(stdout: string): Record<string, Record<string, string>> {
  const report = JSON.parse(stdout) as LvsReport;
  return Object.fromEntries(report.report[0]!.lv.map((lv) => [lv.lv_name!, lv]));
}

/** `blkid -o export DEV` → { TYPE: 'ext4', LABEL: … } */
function parseBlkid(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('runInVm', () => {
  // The first three run at once: two of them only sleep in the guest, which costs no CPU.
  it.concurrent('returns the command’s stdout, stderr and exit code, with env, cwd and argv intact', async () => {
    const result = await runInVm({
      command: [
        'sh',
        '-c',
        'echo out; echo err >&2; pwd; printf "%s|" "$@"; echo "$GREETING"; exit 3',
        'sh',
        'a b',
        "it's",
        '$x',
      ],
      env: { GREETING: 'hello "vm"' },
      cwd: e2eDir,
      timeoutMs: 120_000,
    });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe(`out\n${e2eDir}\na b|it's|$x|hello "vm"\n`);
    expect(result.stderr).toBe('err\n');
    expect(result.consoleTail).toContain('job exited with 3');
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it.concurrent('kills a hanging VM at its timeout, throws VmError with the console tail, leaves no qemu', async () => {
    const started = Date.now();
    const error = await runInVm({ command: ['sleep', '1000'], timeoutMs: 20_000 }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(VmError);
    const vmError = error as VmError;
    expect(vmError.message).toContain('timed out after 20000 ms');
    // Normally it shows 'vm-init: running job'; on a loaded machine the boot may still be under way.
    expect(vmError.consoleTail.trim()).not.toBe('');
    expect(vmError.message).toContain(vmError.consoleTail);
    expect(elapsed).toBeLessThan(40_000);
    expect(await pgrep(vmError.vmName)).toBe(1);
    // The per-run directory (job share, console log) is gone too.
    const leftovers = (await readdir(path.join(e2eDir, '.work', 'tmp'))).filter((n) => n.startsWith(vmError.vmName));
    expect(leftovers).toEqual([]);
  });

  it.concurrent('kills the VM when the AbortSignal fires', async () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 8_000);
    const error = await runInVm({ command: ['sleep', '1000'], signal: controller.signal }).catch((e: unknown) => e);
    clearTimeout(timer);
    expect(error).toBeInstanceOf(VmError);
    expect((error as VmError).message).toContain('was aborted');
    expect(await pgrep((error as VmError).vmName)).toBe(1);
  });

  it('gives the guest working dm-thin on a scratch disk', async () => {
    const disk = path.join(scratch, 'thin.img');
    const script = [
      'set -e',
      '# LVM reports progress on stdout: keep stdout for the JSON alone.',
      'pvcreate -q /dev/vda >&2',
      'vgcreate -q vgtest /dev/vda >&2',
      'lvcreate -q --type thin-pool -L 1G -n pool vgtest >&2',
      'lvcreate -q --type thin -V 2G --thinpool pool -n thin1 vgtest >&2',
      'mkfs.ext4 -q /dev/vgtest/thin1',
      'lvcreate -q -s -n snap1 vgtest/thin1 >&2',
      'lvs --reportformat json -o lv_name,lv_attr,pool_lv,origin,lv_size --units b vgtest',
    ].join('\n');
    const result = await runInVm({ command: ['sh', '-c', script], disks: [{ path: disk, sizeBytes: 2 * 1024 ** 3 }] });
    expect(result.stderr).not.toContain('device-mapper');
    expect(result.exitCode).toBe(0);
    const lvs = parseLvs(result.stdout);
    expect(lvs.pool?.lv_attr).toMatch(/^t/);
    expect(lvs.thin1).toMatchObject({ pool_lv: 'pool', lv_size: `${2 * 1024 ** 3}B` });
    expect(lvs.thin1?.lv_attr).toMatch(/^V/);
    expect(lvs.snap1).toMatchObject({ pool_lv: 'pool', origin: 'thin1' });
  });

  it('bin/vm-run prints the output and exits with the command’s exit code', async () => {
    const result = await execa(
      path.join(e2eDir, 'bin', 'vm-run'),
      ['--timeout', '120', '--', 'sh', '-c', 'echo from-vm; echo oops >&2; exit 5'],
      { reject: false },
    );
    expect(result.stdout).toBe('from-vm');
    expect(result.stderr).toBe('oops');
    expect(result.exitCode).toBe(5);
  });
});

describe('fixtures', () => {
  it('buildThinpHostDisk gives the autopart --type=thinp layout', async () => {
    const fixture = await buildThinpHostDisk(path.join(scratch, 'host.img'));
    expect(fixture).toMatchObject({ vg: 'onn', pool: 'pool00', rootLv: 'root', bootPartition: '/dev/vda1' });
    const script = [
      'set -e',
      'vgchange -q -ay onn >&2',
      'lvs --reportformat json -o lv_name,lv_attr,pool_lv,lv_size --units b onn',
      'echo ---',
      'vgs --noheadings --nosuffix --units b -o vg_free onn',
      'echo ---',
      'blkid -o export /dev/vda1',
      'echo ---',
      'blkid -o export /dev/onn/root',
      'echo ---',
      'pvs --noheadings -o pv_name,vg_name',
      'echo ---',
      'mount -o ro /dev/onn/root /mnt',
      'cat /mnt/etc/os-release',
    ].join('\n');
    const result = await runInVm({ command: ['sh', '-c', script], disks: [{ path: fixture.path }] });
    expect(result.exitCode, result.stderr).toBe(0);
    const [lvsJson, vgFree, bootBlkid, rootBlkid, pvs, osRelease] = result.stdout.split('---\n');
    const lvs = parseLvs(lvsJson!);
    expect(Object.keys(lvs).sort()).toEqual(['pool00', 'root']);
    expect(lvs.pool00?.lv_attr).toMatch(/^twi-a/);
    expect(lvs.root).toMatchObject({ pool_lv: 'pool00', lv_size: `${1024 ** 3}B` });
    expect(lvs.root?.lv_attr).toMatch(/^Vwi-a/);
    expect(Number(vgFree!.trim())).toBeGreaterThan(256 * 1024 ** 2);
    expect(parseBlkid(bootBlkid!)).toMatchObject({ TYPE: 'ext4', LABEL: 'boot' });
    expect(parseBlkid(rootBlkid!)).toMatchObject({ TYPE: 'ext4' });
    expect(pvs!.trim().split(/\s+/)).toEqual(['/dev/vda2', 'onn']);
    expect(osRelease).toContain('NAME="oVirt Node"');
    expect(osRelease).toContain(`VERSION="${fixture.osRelease.VERSION}"`);
  });

  it('buildBaseImage makes an ext4 image whose os-release names the NVR', async () => {
    const nvr = 'ovirt-node-ng-4.5.6-0.20240601.0';
    const image = await buildBaseImage(path.join(scratch, 'base.img'), {
      nvr,
      files: { '/etc/extra.conf': 'x=1\n' },
    });
    const osRelease = await readFileFromExt4Image(image, '/etc/os-release');
    expect(osRelease).toContain(`IMAGE_NVR="${nvr}"`);
    expect(osRelease).toContain('VERSION="4.5.6-0.20240601.0"');
    expect(await readFileFromExt4Image(image, '/etc/extra.conf')).toBe('x=1');
    const { stdout } = await execa('blkid', ['-o', 'value', '-s', 'TYPE', image]);
    expect(stdout.trim()).toBe('ext4');
  });
});
