// The packages as built by `pnpm package` (needs `pnpm build` first, dpkg-deb and rpmbuild): the .deb
// and the RPM install the same files (up to the distributions' own places), and the installed bundles
// run from a directory with no node_modules anywhere above it.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a JavaScript module of the packaging scripts, without type declarations.
import { buildPackages } from '../build.mjs';
// @ts-expect-error: as above.
import { DISTRO_PATHS } from '../lib/layout.mjs';

let out: string;
let deb: string;
let rpm: string;

beforeAll(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'imgbased-packages-'));
  const results = await buildPackages({ out });
  deb = results.deb.path;
  rpm = results.rpm.path;
}, 300_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** The files (not directories) of a tar stream, as absolute paths. */
function tarList(tar: Buffer): string[] {
  return execFileSync('tar', ['-t'], { input: tar, encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\n')
    .filter((line) => line && !line.endsWith('/'))
    .map((line) => line.replace(/^\./, ''));
}

/** The files an RPM installs (directories it owns left out). */
function rpmFiles(file: string): string[] {
  const listed = execFileSync('rpm', ['-qp', '--qf', '[%{FILEMODES:perms} %{FILENAMES}\\n]', file], {
    encoding: 'utf8',
  });
  return listed
    .split('\n')
    .filter((line) => line && !line.startsWith('d'))
    .map((line) => line.slice(line.indexOf(' ') + 1));
}

/** Each distribution's own place for the same file, and the files only one of them has. */
function normalised(files: string[], flavor: 'deb' | 'rpm'): string[] {
  const where = DISTRO_PATHS[flavor] as { units: string; zsh: string };
  return files
    .map((file) => file.replace(`${where.units}/`, '<units>/').replace(`${where.zsh}/`, '<zsh>/'))
    .filter(
      (file) =>
        // Debian's policy: copyright and changelog in the doc directory; RPM: the license in its own.
        !['/usr/share/doc/imgbased/copyright', '/usr/share/doc/imgbased/changelog.gz'].includes(file) &&
        file !== '/usr/share/licenses/imgbased/LICENSE',
    )
    .sort();
}

describe('the .deb and the RPM', () => {
  it('install the same files, in each distribution’s places', () => {
    const fromDeb = tarList(execFileSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 64 << 20 }));
    const fromRpm = rpmFiles(rpm);
    expect(normalised(fromRpm, 'rpm')).toEqual(normalised(fromDeb, 'deb'));
    expect(fromDeb).toEqual(
      expect.arrayContaining([
        '/usr/bin/imgbase',
        '/usr/bin/imgbased',
        '/usr/lib/imgbased/cli/main.cjs.cache',
        '/lib/systemd/system/imgbased.socket',
        '/lib/systemd/system/imgbased-motd.timer',
        '/lib/systemd/system/imgbased-motd.service',
        '/lib/systemd/system/imgbased-boot-check.service',
        '/usr/lib/sysusers.d/imgbased.conf',
        '/usr/lib/tmpfiles.d/imgbased.conf',
        '/etc/imgbased.conf',
        '/etc/grub.d/42_imgbased',
        '/usr/share/man/man8/imgbase.8.gz',
        '/usr/share/man/man5/imgbased.conf.5.gz',
        '/usr/share/bash-completion/completions/imgbase',
        '/usr/share/doc/imgbased/copyright',
      ]),
    );
    expect(fromRpm).toEqual(expect.arrayContaining(['/usr/share/licenses/imgbased/LICENSE']));
  });

  it('declare their dependencies by each distribution’s names, and the conffiles', () => {
    const control = execFileSync('dpkg-deb', ['--field', deb, 'Depends', 'Recommends'], { encoding: 'utf8' });
    expect(control).toMatch(/Depends: .*nodejs \(>= 20\.19\).*lvm2.*thin-provisioning-tools.*e2fsprogs/);
    expect(control).toMatch(/Recommends: .*rsync.*squashfs-tools/);
    expect(execFileSync('dpkg-deb', ['--info', deb, 'conffiles'], { encoding: 'utf8' })).toBe(
      '/etc/imgbased.conf\n/etc/grub.d/42_imgbased\n',
    );
    const requires = execFileSync('rpm', ['-qpR', rpm], { encoding: 'utf8' });
    expect(requires).toMatch(/nodejs >= 1:20\.19/);
    expect(requires).toMatch(/device-mapper-persistent-data/);
    expect(execFileSync('rpm', ['-qp', '--suggests', rpm], { encoding: 'utf8' })).toContain('grub2-tools');
    expect(execFileSync('rpm', ['-qpc', rpm], { encoding: 'utf8' }).split('\n').sort()).toEqual([
      '',
      '/etc/grub.d/42_imgbased',
      '/etc/imgbased.conf',
    ]);
  });

  it('hold bundles that run without node_modules, and agree on the version', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'imgbased-unpacked-'));
    try {
      execFileSync('dpkg-deb', ['-x', deb, root]);
      const lib = path.join(root, 'usr/lib/imgbased');
      const run = (entry: string, ...args: string[]) =>
        execFileSync(process.execPath, [path.join(lib, entry), ...args], { cwd: root, encoding: 'utf8' });
      const version = JSON.parse(await readFile(path.join(__dirname, '../../apps/cli/package.json'), 'utf8')).version;
      expect(run('cli/entry.js', '--version')).toBe(`imgbased-${version}\n`);
      expect(run('daemon/entry.js', '--version')).toBe(`imgbased-${version}\n`);
      expect(run('cli/entry.js', 'layout', '--help')).toContain('Exit codes:');
      // The daemon's usage names exactly the options imgbased(8) documents.
      const usage = run('daemon/entry.js', '--help');
      const page = execFileSync('zcat', [path.join(root, 'usr/share/man/man8/imgbased.8.gz')], { encoding: 'utf8' });
      for (const option of usage.split('\n')[0]!.match(/--[a-z-]+/g) ?? [])
        expect(page.replaceAll('\\-', '-')).toContain(option);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
