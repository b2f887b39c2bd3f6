// What must never happen on a real host: bad input that changes something, a failure or a kill that
// leaves a half-made volume behind, two operations at once, a dry run that changes anything.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBaseImage, makeScratchDir, repoRoot } from '../src/index.ts';
import { IMGBASE, LVS, parseLvs, row, runScenario, type Step, sh } from './support/scenario.ts';

const INIT = [IMGBASE, 'layout', '--init', 'Base-1-0', '--from', 'onn/root'];
const imgbaseBin = path.join(repoRoot, 'apps/cli/bin/imgbase');

/** A directory of stand-ins put first on PATH, to make one tool fail or hang at a chosen step. */
function shim(tool: string, body: string): Step {
  return sh(`mkdir -p /tmp/shim && printf '#!/bin/sh\\n${body}\\n' > /tmp/shim/${tool} && chmod +x /tmp/shim/${tool}`);
}
const SHIMMED = { PATH: '/tmp/shim:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

describe('imgbase refuses bad input and changes nothing', () => {
  it('gives each mistake its typed error, a non-zero exit, and leaves lvs exactly as it was', async () => {
    const mistakes: [string[], string | number][] = [
      [['layout', '--init', 'Base-1-0', '--from', 'onn/nope'], 'E_VOLUME_NOT_FOUND'],
      [['layout', '--init', 'Base-1-0', '--from', 'onn/plain'], 'E_NO_THIN_POOL'],
      [['layout', '--init', 'Bad Name', '--from', 'onn/root'], 'E_NAME_INVALID'],
      [['layout'], 'E_NO_LAYOUT'],
      [['layout', '--init', 'Base-1-0', '--from', 'onn/root', '--dry-run'], 0],
    ];
    const afterInit: [string[], string | number][] = [
      [['layout', '--init', 'Base-9-0', '--from', 'onn/root'], 'E_LAYOUT_EXISTS'],
      [['base', '--add', 'Bad Name-1-0', '--size', '1G'], 'E_NAME_INVALID'],
      [['base', '--add', 'Base-1-0', '--size', '1G'], 'E_BASE_EXISTS'],
      [['base', '--add', 'Base-3-0', '--size', 'huge'], 'E_SIZE_INVALID'],
      [['base', '--add', 'Base-3-0', '--size', '1G', '/nonexistent.img'], 'E_IMAGE_INVALID'],
      [['base', '--add', 'Base-3-0', '--size', '1G', '/etc/hostname'], 'E_IMAGE_INVALID'],
      [['base', '--remove', 'Nope-1-0'], 'E_BASE_NOT_FOUND'],
      [['base', '--of-layer', 'Base-1-0+9'], 'E_LAYER_NOT_FOUND'],
      [['layer', '--add', 'Nope-1-0'], 'E_BASE_NOT_FOUND'],
      [['layer', '--add', 'Base-1-0+9'], 'E_LAYER_NOT_FOUND'],
      [['layer', '--add', '../etc'], 'E_NAME_INVALID'],
      [['layer', '--volume-path', 'x;rm -rf /'], 'E_NAME_INVALID'],
      [['layer', '--current'], 'E_NOT_ON_LAYER'],
      [['layer', '--bogus'], 2],
      [['base'], 2],
      [['base', '--remove', 'Base-1-0', '--dry-run'], 0],
      [['layer', '--add', '--dry-run'], 0],
    ];
    const steps: Step[] = [{ argv: ['lvm', 'lvcreate', '-L', '16m', '-n', 'plain', 'onn'] }, { argv: LVS }];
    for (const [argv] of mistakes) steps.push({ argv: [IMGBASE, ...argv, '--json'] }, { argv: LVS });
    steps.push({ argv: INIT }, { argv: LVS });
    for (const [argv] of afterInit) steps.push({ argv: [IMGBASE, ...argv, '--json'] }, { argv: LVS });
    // A configuration file with a typo: a clear error naming file and key, and nothing done.
    steps.push(
      sh(`printf '[update]\\nimage_to_keep = 3\\n' > /etc/imgbased.conf`),
      { argv: [IMGBASE, 'layer', '--add'] },
      { argv: LVS },
      sh('rm /etc/imgbased.conf'),
    );

    const s = await runScenario(steps);
    let lvsBefore = s.step(1).stdout;
    let index = 2;
    const check = ([argv, expected]: [string[], string | number]) => {
      const result = s.step(index);
      const label = argv.join(' ');
      if (typeof expected === 'number') {
        expect(result.exitCode, `${label}: ${result.stderr}`).toBe(expected);
        if (expected === 0) expect(JSON.parse(result.stdout).data.dryRun, label).toBe(true);
      } else {
        expect(result.exitCode, `${label}: ${result.stderr}`).toBe(1);
        expect(JSON.parse(result.stdout).error.code, label).toBe(expected);
        expect(result.stderr.trim().split('\n'), `${label}: one line`).toHaveLength(1);
      }
      expect(s.step(index + 1).stdout, `lvs after ${label}`).toBe(lvsBefore);
      index += 2;
    };
    for (const mistake of mistakes) check(mistake);
    expect(s.step(index).exitCode, s.step(index).stderr).toBe(0);
    lvsBefore = s.step(index + 1).stdout;
    index += 2;
    for (const mistake of afterInit) check(mistake);
    expect(s.step(index).exitCode, s.step(index).stderr).toBe(0);
    expect(s.step(index + 1).exitCode).toBe(1);
    expect(s.step(index + 1).stderr).toBe('imgbase: /etc/imgbased.conf: update.image_to_keep: unknown setting\n');
    expect(s.step(index + 2).stdout).toBe(lvsBefore);
  });
});

describe('imgbase never leaves a half-made volume', () => {
  it('undoes its steps when a tool fails midway, and a dry run changes nothing', async () => {
    const dir = await makeScratchDir('safety');
    const image = await buildBaseImage(path.join(dir, 'Base-3-0.ext4'), { nvr: 'Base-3-0' });
    const s = await runScenario([
      /* 0 */ INIT,
      /* 1 */ LVS,
      /* 2 */ shim('tune2fs', 'echo "tune2fs: injected failure" >&2; exit 1'),
      /* 3 */ { argv: [IMGBASE, 'layer', '--add'], env: SHIMMED },
      /* 4 */ LVS,
      /* 5 */ shim('mkfs.ext4', 'echo "mkfs.ext4: injected failure" >&2; exit 1'),
      /* 6 */ { argv: [IMGBASE, 'base', '--add', 'Base-2-0', '--size', '1G'], env: SHIMMED },
      /* 7 */ LVS,
      /* 8 */ shim('dumpe2fs', 'echo "dumpe2fs: injected failure" >&2; exit 1'),
      /* 9 */ { argv: [IMGBASE, 'base', '--add', 'Base-3-0', '--size', '1G', image], env: SHIMMED },
      /* 10 */ LVS,
      /* 11 */ [IMGBASE, 'layer', '--add', '--dry-run'],
      /* 12 */ [IMGBASE, 'base', '--add', 'Base-3-0', '--size', '1G', image, '--dry-run', '--json'],
      /* 13 */ LVS,
      /* 14 */ [IMGBASE, 'base', '--add', 'Base-3-0', '--size', '1G', image],
      /* 15 */ ['lvm', 'lvchange', '-ay', '-K', 'onn/Base-3-0'],
      /* 16 */ ['debugfs', '-R', 'cat /etc/os-release', '/dev/onn/Base-3-0'],
      /* 17 */ LVS,
    ]);
    expect(s.step(0).exitCode, s.step(0).stderr).toBe(0);
    const initial = s.step(1).stdout;
    for (const [run, lvs, message] of [
      [3, 4, 'tune2fs: injected failure'],
      [6, 7, 'mkfs.ext4: injected failure'],
      [9, 10, 'dumpe2fs: injected failure'],
    ] as const) {
      expect(s.step(run).exitCode).toBe(1);
      expect(s.step(run).stderr).toContain(message);
      expect(s.step(lvs).stdout, `lvs after ${s.step(run).argv.join(' ')}`).toBe(initial);
    }

    expect(s.step(11).exitCode, s.step(11).stderr).toBe(0);
    expect(s.step(11).stdout).toContain('Dry run: nothing was changed');
    expect(s.step(11).stdout).toMatch(/lvm lvcreate .*--snapshot.*Base-1-0\+1/);
    expect(s.step(11).stdout).toContain('tune2fs -U random /dev/onn/Base-1-0+2');
    const plan = JSON.parse(s.step(12).stdout).data;
    expect(plan.dryRun).toBe(true);
    expect(plan.plan.map((c: { argv: string[] }) => c.argv[0])).toEqual(expect.arrayContaining(['lvm', 'resize2fs']));
    expect(s.step(13).stdout).toBe(initial);

    expect(s.step(14).exitCode, s.step(14).stderr).toBe(0);
    expect(s.step(16).stdout).toContain('IMAGE_NVR="Base-3-0"');
    const base = row(parseLvs(s.step(17)), 'Base-3-0');
    expect(base.lv_tags).toBe('imgbased:base');
    expect(base.lv_attr[1]).toBe('r');
  });

  it('recovers after being killed in the middle, and serialises concurrent changes', async () => {
    const killParent = 'kill -9 $PPID; sleep 5';
    const s = await runScenario([
      /* 0 */ shim('tune2fs', killParent),
      /* 1 */ { argv: INIT, env: SHIMMED },
      /* 2 */ LVS,
      /* 3 */ [IMGBASE, 'layout'],
      /* 4 */ INIT,
      /* 5 */ LVS,
      /* 6 */ { argv: [IMGBASE, 'layer', '--add'], env: SHIMMED },
      /* 7 */ LVS,
      /* 8 */ [IMGBASE, 'layout'],
      /* 9 */ [IMGBASE, 'layer', '--add'],
      /* 10 */ LVS,
      /* 11 */ shim('tune2fs', 'sleep 20; exec /sbin/tune2fs "$@"'),
      /* 12 */ sh(
        `PATH=/tmp/shim:$PATH ${imgbaseBin} layer --add > /tmp/first.out 2>&1 & sleep 8; ${imgbaseBin} layer --add --json; wait; cat /tmp/first.out`,
      ),
      /* 13 */ LVS,
      // SIGTERM (or Ctrl-C) while a change runs: it undoes its steps before it exits.
      /* 14 */ sh(
        `PATH=/tmp/shim:$PATH ${imgbaseBin} layer --add & pid=$!; sleep 8; kill -TERM $pid; wait $pid; echo "exit=$?"`,
      ),
      /* 15 */ LVS,
    ]);
    // Killed during `layout --init`: the group is marked, the base made, the layer pending.
    expect(s.step(1).exitCode).not.toBe(0);
    const afterKill = parseLvs(s.step(2));
    expect(row(afterKill, 'root').vg_tags).toContain('imgbased:pending');
    expect(s.step(3).stdout).toContain('(incomplete: removed by the next change)');
    // Running it again clears the remains and succeeds.
    expect(s.step(4).exitCode, s.step(4).stderr).toBe(0);
    expect(s.step(4).stdout).toContain('left half-made by an interrupted operation');
    const clean = parseLvs(s.step(5));
    expect(row(clean, 'root').vg_tags).toBe('imgbased:vg');
    expect(clean.map((r) => r.lv_name).sort()).toEqual(
      ['Base-1-0', 'Base-1-0+1', 'plain', 'pool00', 'root'].filter((n) => n !== 'plain').sort(),
    );

    // Killed during `layer --add`: the new layer is left pending, shown as incomplete, removed next time.
    expect(s.step(6).exitCode).not.toBe(0);
    expect(row(parseLvs(s.step(7)), 'Base-1-0+2').lv_tags).toContain('imgbased:pending');
    expect(s.step(8).stdout).toBe('Base-1-0\n +- Base-1-0+1\nBase-1-0+2 (incomplete: removed by the next change)\n');
    expect(s.step(9).exitCode, s.step(9).stderr).toBe(0);
    expect(s.step(9).stdout).toBe(
      'Removed Base-1-0+2, left half-made by an interrupted operation\nCreated Base-1-0+2\n',
    );
    expect(parseLvs(s.step(10)).some((r) => r.lv_tags.includes('pending'))).toBe(false);

    // Two changes at once: the second gets E_LOCKED at once; the first finishes.
    const [second, ...firstLines] = s.step(12).stdout.split(/(?<=\n})\n/);
    expect(JSON.parse(second!).error.code).toBe('E_LOCKED');
    expect(firstLines.join('\n')).toContain('Created Base-1-0+3');
    expect(s.step(14).stdout).toContain('exit=1');
    expect(s.step(14).stderr).toContain('cancelled');
    expect(s.step(15).stdout, 'lvs after SIGTERM').toBe(s.step(13).stdout);
    const final = parseLvs(s.step(13));
    expect(
      final
        .filter((r) => r.lv_tags === 'imgbased:layer')
        .map((r) => r.lv_name)
        .sort(),
    ).toEqual(['Base-1-0+1', 'Base-1-0+2', 'Base-1-0+3']);
  });
});

describe('imgbase knows the running layer', () => {
  it('answers w and layer --current from a system booted into a layer, and refuses to remove its base', async () => {
    // Run imgbase with a layer as / (a chroot with the host's /usr, /dev, /proc, /sys, /run and the checkout
    // bound in), as if the host had booted into it.
    const root = '/mnt/layer';
    const enter = [
      `mkdir -p ${root} && mount /dev/onn/Base-1-0+2 ${root}`,
      `for d in usr dev proc sys run; do mkdir -p ${root}/$d; done`,
      `mount --bind /usr ${root}/usr && mount --rbind /dev ${root}/dev && mount -t proc proc ${root}/proc`,
      `mount --rbind /sys ${root}/sys && mount --bind /run ${root}/run`,
      `for l in bin sbin lib lib64; do [ -e ${root}/$l ] || ln -s usr/$l ${root}/$l; done`,
      `mkdir -p ${root}${repoRoot} && mount --bind ${repoRoot} ${root}${repoRoot}`,
      `mkdir -p ${root}/etc/lvm && cp /etc/lvm/lvmlocal.conf ${root}/etc/lvm/ 2>/dev/null; true`,
    ].join(' && ');
    const inLayer = (...args: string[]) => sh(`chroot ${root} /usr/bin/node ${imgbaseBin} ${args.join(' ')}`);
    const s = await runScenario([
      /* 0 */ [IMGBASE, 'layout', '--init', '--init-nvr', 'Base-1-0', '--from', '/dev/onn/root'],
      /* 1 */ [IMGBASE, 'layer', '--add'],
      /* 2 */ sh(enter),
      /* 3 */ inLayer('w'),
      /* 4 */ inLayer('layer', '--current', '--json'),
      /* 5 */ inLayer('base', '--remove', 'Base-1-0'),
      /* 6 */ sh(`chroot ${root} findmnt -n -o SOURCE /`),
      /* 7 */ LVS,
      /* 8 */ [IMGBASE, 'base', '--add', 'Base-2-0', '--size', '256M'],
      /* 9 */ [IMGBASE, 'layer', '--add'],
      /* 10 */ [IMGBASE, 'base', '--remove', 'Base-2-0'],
      /* 11 */ LVS,
    ]);
    for (const i of [0, 1, 2]) expect(s.step(i).exitCode, s.step(i).stderr).toBe(0);
    expect(s.step(3).stdout).toBe('You are on Base-1-0+2\n');
    expect(JSON.parse(s.step(4).stdout).data).toEqual({ layer: 'Base-1-0+2' });
    expect(s.step(5).exitCode).toBe(1);
    expect(s.step(5).stderr).toContain("holds the running layer 'Base-1-0+2'");
    expect(s.step(6).stdout.trim()).toMatch(/onn-Base--1--0\+2$/);
    expect(parseLvs(s.step(7)).map((r) => r.lv_name)).toContain('Base-1-0');
    expect(s.step(10).exitCode, s.step(10).stderr).toBe(0);
    expect(s.step(10).stdout).toBe('Removed Base-2-0+1\nRemoved Base-2-0\n');
    expect(
      parseLvs(s.step(11))
        .map((r) => r.lv_name)
        .sort(),
    ).toEqual(['Base-1-0', 'Base-1-0+1', 'Base-1-0+2', 'pool00', 'root']);
  });
});
