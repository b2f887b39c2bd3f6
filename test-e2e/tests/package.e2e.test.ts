// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are shell code, whose ${…} is the shell’s
// The .deb as a host gets it: built by packaging/build.mjs on the host, installed with `dpkg -i` in a VM
// whose systemd is PID 1, with the checkout and every node_modules directory on Node's lookup path
// hidden under empty tmpfs mounts first, so that only the installed files can run. One boot: the
// installed imgbase (version, man page, bash completion of real layer names, layout --init on the
// thinp fixture, a usage error as JSON), then the packaged units: the socket started by systemctl and
// a read through it with curl. Outcomes are read back from dpkg, man, bash, lvs, systemctl and curl.
import { readFileSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a JavaScript module of the packaging scripts, without type declarations.
import { buildPackages } from '../../packaging/build.mjs';
import { buildThinpHostDisk, makeScratchDir, repoRoot, runInVm } from '../src/index.ts';
import { SOCK } from './support/daemon.ts';
import { LVS, parseLvs, type Step, type StepResult, sh } from './support/scenario.ts';

const RUN_STEPS = path.join(repoRoot, 'test-e2e/guest-bin/run-steps.mjs');
const DEB = '/tmp/imgbased.deb';
const IMGBASE = '/usr/bin/imgbase';

/** Test plumbing: the package where the hidden checkout cannot be, then the checkout and node_modules hidden. */
const hide = (deb: string) =>
  sh(
    [
      'set -e',
      `cp ${deb} ${DEB}`,
      // No man-db index rebuild in the dpkg trigger (minutes under emulation); man finds pages by path.
      'rm -f /var/lib/man-db/auto-update',
      `mount -t tmpfs -o size=1m,mode=0755 hidden ${repoRoot}`,
      'for d in /usr/lib/node_modules /usr/local/lib/node_modules /node_modules /usr/node_modules; do [ -d $d ] && mount -t tmpfs -o size=1m hidden $d; done; true',
    ].join('\n'),
  );

/** `imgbase layer --volume-path <TAB>`, the way bash-completion loads and runs the installed completion. */
const COMPLETE = [
  'source /usr/share/bash-completion/bash_completion',
  '_completion_loader imgbase',
  'complete -p imgbase',
  'COMP_WORDS=(imgbase layer --volume-path "")',
  'COMP_CWORD=3',
  'COMP_LINE="imgbase layer --volume-path "',
  'COMP_POINT=${#COMP_LINE}',
  '_imgbase imgbase "" --volume-path',
  'printf "%s\\n" "${COMPREPLY[@]}"',
].join('\n');

async function runInstalled(deb: string, steps: (Step | string[])[]): Promise<(index: number) => StepResult> {
  const dir = await makeScratchDir('package');
  try {
    const disk = await buildThinpHostDisk(path.join(dir, 'host.img'));
    const copy = path.join(dir, 'imgbased.deb');
    await copyFile(deb, copy);
    const all = [
      { argv: ['lvm', 'vgchange', '-ay', 'onn'] },
      hide(copy),
      ...steps.map((s) => (Array.isArray(s) ? { argv: s } : s)),
    ];
    const run = await runInVm({
      command: ['sh', '-c', 'node "$0" "$1"; echo "run-steps: $?" >&2; exit 7', RUN_STEPS, JSON.stringify(all)],
      disks: [{ path: disk.path }],
      init: 'systemd',
      timeoutMs: 540_000,
    });
    expect(run.stderr, run.consoleTail).toBe('run-steps: 0\n');
    const results = JSON.parse(run.stdout) as StepResult[];
    for (const i of [0, 1]) expect(results[i]!.exitCode, `setup ${i}: ${results[i]!.stderr}`).toBe(0);
    return (index) => results[index + 2]!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the .deb installed on a host without the checkout', () => {
  it('runs imgbase and imgbased from /usr, with its man page, completion and units', async () => {
    const out = await makeScratchDir('package-out');
    try {
      const { deb } = await buildPackages({ formats: ['deb'], out });
      const version = JSON.parse(readFileSync(path.join(repoRoot, 'apps/cli/package.json'), 'utf8')).version;
      const s = await runInstalled(deb.path, [
        /* 0 */ ['dpkg', '-i', DEB],
        /* 1 */ [IMGBASE, '--version'],
        /* 2 */ ['/usr/bin/imgbased', '--version'],
        /* 3 */ sh('MANWIDTH=80 man -P cat imgbase'),
        /* 4 */ [IMGBASE, 'layout', '--init', 'Base-1-0', '--from', 'onn/root'],
        /* 5 */ [IMGBASE, 'layer', '--add'],
        /* 6 */ LVS,
        /* 7 */ ['bash', '-c', COMPLETE],
        /* 8 */ [IMGBASE, 'layout', '--bogus', '--json'],
        /* 9 */ ['systemctl', 'start', 'imgbased.socket'],
        /* 10 */ ['systemctl', 'show', '-p', 'ActiveState,SubState', 'imgbased.socket'],
        /* 11 */ ['stat', '-c', '%U:%G %a', SOCK],
        /* 12 */ ['curl', '-sS', '--unix-socket', SOCK, 'http://localhost/v1/layout/layers'],
        /* 13 */ [IMGBASE, 'layout', '--layers', '--json'],
        /* 14 */ ['systemctl', 'show', '-p', 'ActiveState,ExecMainStatus,FragmentPath', 'imgbased.service'],
        /* 15 */ sh(
          `dpkg-query -W -f '\${Status}' imgbased; echo; getent group imgbased; stat -f -c %T ${repoRoot}; ls -A ${repoRoot} | wc -l`,
        ),
      ]);
      for (const i of [0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15])
        expect(s(i).exitCode, `step ${i}: ${s(i).stderr}`).toBe(0);

      // The installed programs, from /usr, of the package's version.
      expect(s(1).stdout).toBe(`imgbased-${version}\n`);
      expect(s(2).stdout).toBe(`imgbased-${version}\n`);
      expect(s(3).stdout).toMatch(/^IMGBASE\(8\)/);
      expect(s(3).stdout).toContain('EXIT STATUS');
      // layout --init and layer --add on the fixture's thin pool, as lvs sees it.
      const names = parseLvs(s(6)).map((r) => r.lv_name);
      expect(names).toEqual(expect.arrayContaining(['Base-1-0', 'Base-1-0+1', 'Base-1-0+2']));
      // bash-completion found the installed completion and offered the real names.
      expect(s(7).stdout).toBe('complete -F _imgbase imgbase\nBase-1-0\nBase-1-0+1\nBase-1-0+2\n');
      // A usage mistake answered as JSON, exit 2.
      expect(s(8).exitCode).toBe(2);
      expect(JSON.parse(s(8).stdout)).toMatchObject({ schemaVersion: 1, error: { code: 'E_USAGE' } });
      // The packaged units: the socket listens (group imgbased, from the package's sysusers snippet),
      // the first request starts the packaged service, which answers what the CLI answers.
      expect(s(10).stdout).toBe('ActiveState=active\nSubState=listening\n');
      expect(s(11).stdout.trim()).toBe('root:imgbased 660');
      expect(JSON.parse(s(12).stdout)).toEqual(JSON.parse(s(13).stdout));
      expect(JSON.parse(s(12).stdout).data.layers).toEqual(['Base-1-0+1', 'Base-1-0+2']);
      expect(s(14).stdout).toContain('ActiveState=active');
      expect(s(14).stdout).toMatch(/FragmentPath=\/(usr\/)?lib\/systemd\/system\/imgbased\.service/);
      // Installed, the group made, and the checkout hidden all along (an empty tmpfs).
      const [status, group, fstype, entries] = s(15).stdout.trim().split('\n');
      expect(status).toBe('install ok installed');
      expect(group).toMatch(/^imgbased:x:\d+:/);
      expect([fstype, entries]).toEqual(['tmpfs', '0']);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
