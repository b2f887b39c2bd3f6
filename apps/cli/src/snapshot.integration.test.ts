// bin/imgbase and the CLI's start-up snapshot (snapshot.ts), on a copy of the built CLI (`pnpm build`
// first) in a directory of its own: the first run of a boot builds the snapshot in the background, the
// next ones start from it and answer the same; a snapshot Node refuses is replaced; signals reach imgbase.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const boot = existsSync('/proc/sys/kernel/random/boot_id')
  ? readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  : undefined;

let dir: string;
let bin: string;
let blob: string;
let stubs: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { env: { PATH: `${stubs}:${process.env.PATH}`, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

const timing = (stderr: string) =>
  JSON.parse(
    stderr
      .split('\n')
      .find((line) => line.startsWith('imgbase-timing '))!
      .slice('imgbase-timing '.length),
  );

async function waitFor(file: string, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (existsSync(file) && !existsSync(`${file}.lock`)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${file} was not built`);
}

beforeAll(async () => {
  if (!existsSync(path.join(app, 'dist/snapshot.cjs'))) throw new Error('run pnpm build first');
  dir = await mkdtemp(path.join(tmpdir(), 'imgbased-snapshot-'));
  await cp(path.join(app, 'bin'), path.join(dir, 'bin'), { recursive: true });
  await cp(path.join(app, 'dist'), path.join(dir, 'dist'), {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}snapshots`) && !source.endsWith('.map'),
  });
  bin = path.join(dir, 'bin/imgbase');
  blob = path.join(dir, 'dist/snapshots', `${boot}.blob`);
  // An lvm that reports one group, its pool and a base (lvm-thin's fields), slowly when asked to.
  stubs = path.join(dir, 'stubs');
  await mkdir(stubs);
  const fields =
    'lv_name,vg_name,lv_path,lv_size,lv_attr,lv_tags,vg_tags,vg_size,vg_free,origin,pool_lv,segtype,data_percent,metadata_percent,lv_metadata_size,lv_kernel_major,lv_kernel_minor'.split(
      ',',
    );
  // biome-ignore format: one lvs row per line
  const rows = [
    ['pool00', 'vg', '', '4294967296', 'twi-aotz--', 'imgbased:pool', 'imgbased:vg', '8589934592', '1073741824', '', '', 'thin-pool', '1.00', '2.00', '4194304', '253', '2'],
    ['Base-1-0', 'vg', '/dev/vg/Base-1-0', '1073741824', 'Vri---tz-k', 'imgbased:base', 'imgbased:vg', '8589934592', '1073741824', '', 'pool00', 'thin', '', '', '', '-1', '-1'],
  ];
  const report = { report: [{ lv: rows.map((row) => Object.fromEntries(fields.map((f, i) => [f, row[i]]))) }] };
  await writeFile(path.join(stubs, 'report.json'), JSON.stringify(report));
  await writeFile(
    path.join(stubs, 'lvm'),
    `#!/bin/sh\n[ -n "$SLOW_LVM" ] && sleep "$SLOW_LVM"\nexec cat '${stubs}/report.json'\n`,
    { mode: 0o755 },
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(boot === undefined)('bin/imgbase and the start-up snapshot', () => {
  let plain: Run;

  it('answers --version without Node', async () => {
    expect(await run([bin, '--version'], { PATH: '/nonexistent' })).toEqual({
      code: 0,
      stdout: `imgbased-${JSON.parse(readFileSync(path.join(app, 'package.json'), 'utf8')).version}\n`,
      stderr: '',
    });
  });

  it('runs the plain bundle on a boot without a snapshot, and has one built for the next runs', async () => {
    plain = await run([bin, 'layout', '--json'], { IMGBASED_TIMING: '1' });
    expect(plain.code).toBe(0);
    expect(timing(plain.stderr).cache).toBe('accepted');
    expect(JSON.parse(plain.stdout)).toMatchObject({ verb: 'layout', data: { vg: 'vg' } });
    await waitFor(blob);
  });

  it('then starts from the snapshot and answers the same', async () => {
    const fromSnapshot = await run([bin, 'layout', '--json'], { IMGBASED_TIMING: '1' });
    expect(timing(fromSnapshot.stderr).cache).toBe('snapshot');
    expect(fromSnapshot.stdout).toBe(plain.stdout);
    expect(fromSnapshot.code).toBe(0);
    // A usage mistake, and `node bin/imgbase` (the plain bundle): the same answers too.
    const mistake = await run([bin, 'nosuch']);
    expect(mistake.code).toBe(2);
    expect(await run([process.execPath, bin, 'nosuch'])).toEqual(mistake);
    expect((await run([process.execPath, bin, 'layout', '--json'])).stdout).toBe(plain.stdout);
  });

  it('passes SIGTERM on to the running imgbase, which cancels its command', async () => {
    const child = spawn(bin, ['layout', '--json'], {
      env: { PATH: `${stubs}:${process.env.PATH}`, SLOW_LVM: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toContain('was cancelled');
    expect(code).toBe(1);
  });

  it('runs the plain bundle when Node refuses the snapshot (another Node made it), and replaces it', async () => {
    // A snapshot made with other V8 flags is refused as one made by another Node version is: exit code 14.
    await rm(blob);
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--no-opt', '--snapshot-blob', blob, '--build-snapshot', path.join(dir, 'dist/snapshot.cjs')],
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    const refused = await run([bin, 'layout', '--json']);
    expect(refused.code).toBe(0);
    expect(refused.stdout).toBe(plain.stdout);
    expect(refused.stderr).toContain('Failed to load the startup snapshot');
    await waitFor(blob);
    const again = await run([bin, 'layout', '--json'], { IMGBASED_TIMING: '1' });
    expect(timing(again.stderr).cache).toBe('snapshot');
    expect(again.stdout).toBe(plain.stdout);
    expect(await readdir(path.dirname(blob))).toEqual([path.basename(blob)]);
  });
});
