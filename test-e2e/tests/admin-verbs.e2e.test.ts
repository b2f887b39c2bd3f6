// The host administration verbs on the thinp fixture with extlinux, in one VM boot: check's exit
// codes (fresh, pool past the warn threshold, an entry deleted by hand), recover --list naming that
// layer and a pending volume made by hand while changing nothing, recover --yes repairing both;
// volume --create moving /var/log's files in, its refusals changing nothing; layer --diff against
// diff -r of the two trees mounted by layer --mount; and the daemon answering what the CLI prints.
// Outcomes are read with lvs, find, md5sum and diff, never from imgbased's own view.
import { describe, expect, it } from 'vitest';
import { compareWithDiffR, STATE, stateOf } from './support/admin.ts';
import { curl, EXTLINUX_SETUP, startDaemon, stopDaemon, withStatus } from './support/daemon.ts';
import { IMGBASE, runScenario, type Step, sh } from './support/scenario.ts';

/** Shell: deletes the extlinux LABEL block that boots LAYER (by hand, as an admin might). */
const deleteEntryOf = (layer: string) =>
  sh(
    `node -e 'const f="/boot/extlinux/extlinux.conf",fs=require("fs");const s=fs.readFileSync(f,"utf8");fs.writeFileSync(f,s.split(/(?=^LABEL )/m).filter((b)=>!b.includes("img.bootid=${layer}")).join(""))'`,
  );

/** Shell: the tree below the current directory, sizes of files only (directories' depend on the block size). */
const LISTING = 'find . -type f -printf "%p %m %s %U:%G\\n" -o -printf "%p %y %m %U:%G\\n" | sort';

const LAYER_FILES = sh(
  'mkdir -p /mnt/s && mount -o ro /dev/onn/Base-1-0+2 /mnt/s && (cd /mnt/s && find . -printf "%p %m %s %U:%G\\n" | sort) ; umount /mnt/s',
);

describe('host administration verbs', () => {
  it('check, recover, volume and layer --diff on a real layout; the daemon answers as the CLI', async () => {
    const steps: Step[] = [];
    const at: Record<string, number> = {};
    const add = (name: string, step: Step | string[]) => {
      at[name] = steps.length;
      steps.push(Array.isArray(step) ? { argv: step } : step);
    };
    add('setup', EXTLINUX_SETUP);
    // LVM grows the pool (a host without autoextension is degraded: check says so).
    add(
      'autoextend',
      sh("sed -i 's/^activation {/activation {\\n\\tthin_pool_autoextend_threshold = 80/' /etc/lvm/lvmlocal.conf"),
    );
    add('init', [IMGBASE, 'layout', '--init', 'Base-1-0', '--from', 'onn/root']);
    add('layer', [IMGBASE, 'layer', '--add']);
    add('checkFresh', [IMGBASE, 'check', '--json']);
    add('checkHuman', [IMGBASE, 'check']);
    // The warn threshold just above today's use, then 256 MiB written into a scratch thin volume.
    add(
      'thresholds',
      sh(
        'used=$(lvm lvs --noheadings -o data_percent onn/pool00 | tr -d " " | cut -d. -f1); printf "[check]\\npool_data_warn = %s\\n" $((used + 2)) >> /etc/imgbased.conf; cat /etc/imgbased.conf',
      ),
    );
    add('checkBelow', [IMGBASE, 'check', '--json']);
    add(
      'fill',
      sh(
        'lvm lvcreate -q -V 1G -T onn/pool00 -n filler >&2 && dd if=/dev/zero of=/dev/onn/filler bs=1M count=256 oflag=direct 2>&1',
      ),
    );
    add('checkFull', [IMGBASE, 'check', '--json']);
    add('unfill', sh('lvm lvremove -q -y onn/filler >&2'));
    add('deleteEntry', deleteEntryOf('Base-1-0+1'));
    add('checkNoEntry', [IMGBASE, 'check', '--json']);
    add('pending', sh('lvm lvcreate -q -V 64M -T onn/pool00 -n stray --addtag imgbased:pending >&2'));
    add('beforeList', STATE);
    add('recoverList', [IMGBASE, 'recover', '--list', '--json']);
    add('recoverDefault', [IMGBASE, 'recover']);
    add('afterList', STATE);
    add('recoverYes', [IMGBASE, 'recover', '--yes', '--json']);
    add('checkRepaired', [IMGBASE, 'check', '--json']);
    add('afterRecover', STATE);

    // Separate volumes: /var/log of the newest layer (the host runs from none) with files in it.
    add(
      'logFiles',
      sh(
        `mkdir -p /mnt/s && mount /dev/onn/Base-1-0+2 /mnt/s && mkdir -p /mnt/s/var/log/sub && echo boot > /mnt/s/var/log/messages && echo x > /mnt/s/var/log/sub/file && chmod 640 /mnt/s/var/log/sub/file && chown 7:7 /mnt/s/var/log/messages && (cd /mnt/s/var/log && ${LISTING}); umount /mnt/s`,
      ),
    );
    add('beforeRefusals', STATE);
    add('beforeRefusalsFiles', LAYER_FILES);
    const refusals: [string[], string][] = [
      [['--create', '/', '256M'], 'E_VOLUME_PATH_REFUSED'],
      [['--create', '/etc', '256M'], 'E_VOLUME_PATH_REFUSED'],
      [['--create', '/usr/lib', '256M'], 'E_VOLUME_PATH_REFUSED'],
      [['--create', '/boot/efi', '256M'], 'E_VOLUME_PATH_REFUSED'],
      [['--create', 'var/log', '256M'], 'E_VOLUME_PATH_REFUSED'],
      // The harness's /tmp is a tmpfs: a path with another device mounted on it.
      [['--create', '/tmp', '256M'], 'E_PATH_MOUNTED'],
      [['--remove', '/var/log'], 'E_VOLUME_NOT_FOUND'],
    ];
    refusals.forEach(([args], n) => {
      add(`refusal${n}`, [IMGBASE, 'volume', ...args, '--json']);
    });
    add('afterRefusals', STATE);
    add('afterRefusalsFiles', LAYER_FILES);
    add('create', [IMGBASE, 'volume', '--create', '/var/log', '256M', '--json']);
    add('volumeFiles', sh(`mount -o ro /dev/onn/var_log /mnt/s && (cd /mnt/s && ${LISTING}); umount /mnt/s`));
    add(
      'layerAfterCreate',
      sh(
        'mount -o ro /dev/onn/Base-1-0+2 /mnt/s && ls -A /mnt/s/var/log; echo ---; cat /mnt/s/etc/systemd/system/var-log.mount; echo ---; readlink /mnt/s/etc/systemd/system/local-fs.target.wants/var-log.mount; umount /mnt/s',
      ),
    );
    add('lvsAfterCreate', sh('lvm lvs --noheadings -o lv_name,lv_tags,lv_size --units m --nosuffix onn/var_log'));
    add('inUse', sh('mkdir -p /mnt/v && mount /dev/onn/var_log /mnt/v'));
    add('beforeInUse', STATE);
    add('removeInUse', [IMGBASE, 'volume', '--remove', '/var/log', '--json']);
    add('afterInUse', STATE);
    add('notInUse', sh('umount /mnt/v'));
    add('detach', [IMGBASE, 'volume', '--detach', '/var/log', '--json']);
    add('attach', [IMGBASE, 'volume', '--attach', '/var/log', '--json']);

    // Two layers that differ: +2 changed by hand, compared with +1.
    add(
      'meddle',
      sh(
        'mount /dev/onn/Base-1-0+2 /mnt/s && cd /mnt/s && echo changed >> etc/motd && rm etc/hostname && echo new > etc/new-file && chmod 600 etc/group && ln -s /etc/passwd etc/link && mkdir -p usr/lib/newdir && echo f > usr/lib/newdir/f && cd / && umount /mnt/s',
      ),
    );
    add('diff', [IMGBASE, 'layer', '--diff', 'Base-1-0+1', 'Base-1-0+2', '--content', '--json']);
    add('mountA', [IMGBASE, 'layer', '--mount', 'Base-1-0+1', '/mnt/a', '--json']);
    add('mountB', [IMGBASE, 'layer', '--mount', 'Base-1-0+2', '/mnt/b']);
    add('rwBase', [IMGBASE, 'layer', '--mount', 'Base-1-0', '--rw', '--json']);
    add(
      'diffR',
      sh('diff -rq --no-dereference /mnt/a /mnt/b; findmnt -rn -o TARGET,OPTIONS /mnt/a; findmnt -rn -o TARGET /mnt/b'),
    );
    add('umountA', [IMGBASE, 'layer', '--umount', 'Base-1-0+1']);
    add('umountB', [IMGBASE, 'layer', '--umount', 'Base-1-0+2']);
    add('mountsLeft', sh('findmnt -rn -o TARGET | grep -c "^/mnt/[ab]$" || true'));

    // The daemon answers each new read verb as the CLI prints it.
    add('daemon', startDaemon());
    const reads: [string[], string][] = [
      [['status'], '/v1/status'],
      [['check'], '/v1/check'],
      [['motd'], '/v1/motd'],
      [['volume', '--list'], '/v1/volumes'],
      [['recover', '--list'], '/v1/recovery'],
      [['layer', '--diff', 'Base-1-0+2'], '/v1/layers/Base-1-0+2/diff'],
    ];
    reads.forEach(([argv, url], n) => {
      add(`get${n}`, curl('GET', url, { status: true }));
      add(`cli${n}`, [IMGBASE, ...argv, '--json']);
    });
    add('stop', stopDaemon);
    add('motdUpdate', [IMGBASE, 'motd', '--update']);
    add('motdFile', sh('cat /etc/motd.d/50-imgbased'));

    const scenario = await runScenario(steps, { timeoutMs: 900_000 });
    const step = (name: string) => scenario.step(at[name]!);
    const json = (name: string) => JSON.parse(step(name).stdout);
    for (const name of [
      'setup',
      'autoextend',
      'init',
      'layer',
      'thresholds',
      'fill',
      'unfill',
      'deleteEntry',
      'pending',
      'logFiles',
    ])
      expect(step(name).exitCode, `${name}: ${step(name).stderr}`).toBe(0);

    // check: 0 fresh, 1 past the warn threshold, 2 with a layer's entry gone.
    expect([step('checkFresh').exitCode, json('checkFresh').data.health], step('checkFresh').stdout).toEqual([0, 'ok']);
    expect(step('checkHuman').stdout).toContain('imgbase check: ok (exit code 0)');
    expect(step('checkBelow').exitCode, step('checkBelow').stdout).toBe(0);
    const full = json('checkFull').data;
    expect([step('checkFull').exitCode, full.health]).toEqual([1, 'degraded']);
    expect(
      full.findings.filter((f: { status: string }) => f.status === 'warn').map((f: { check: string }) => f.check),
    ).toEqual(['pool-data']);
    expect(step('checkNoEntry').exitCode).toBe(2);
    expect(json('checkNoEntry').data.findings).toContainEqual(
      expect.objectContaining({ check: 'entry-per-layer', status: 'fail', targets: ['Base-1-0+1'] }),
    );

    // recover --list names both and changes nothing; --yes repairs both; check is ok again.
    const listed = json('recoverList').data.steps.map((s: { kind: string; targets: string[] }) => [s.kind, s.targets]);
    expect(listed).toEqual([
      ['remove-volume', ['stray']],
      ['add-boot-entry', ['Base-1-0+1']],
    ]);
    expect(step('recoverDefault').stdout).toContain("Run 'imgbase recover --yes' to repair");
    expect(stateOf(step('afterList'))).toEqual(stateOf(step('beforeList')));
    expect(step('recoverYes').exitCode, step('recoverYes').stderr).toBe(0);
    expect(json('recoverYes').data).toMatchObject({ recovered: ['stray'], addedEntries: ['Base-1-0+1'] });
    expect([step('checkRepaired').exitCode, json('checkRepaired').data.health], step('checkRepaired').stdout).toEqual([
      0,
      'ok',
    ]);
    expect(stateOf(step('afterRecover')).lvs).not.toContain('stray');
    expect(stateOf(step('afterRecover')).extlinux).toContain('img.bootid=Base-1-0+1');

    // Volume refusals: typed, nothing changed (lvs, /boot, the layer's files).
    refusals.forEach(([args, code], n) => {
      const result = step(`refusal${n}`);
      expect([result.exitCode, JSON.parse(result.stdout).error.code], args.join(' ')).toEqual([1, code]);
    });
    expect(stateOf(step('afterRefusals'))).toEqual(stateOf(step('beforeRefusals')));
    expect(step('afterRefusalsFiles').stdout).toBe(step('beforeRefusalsFiles').stdout);

    // volume --create: the files moved in (modes, owners), the layer's /var/log empty, the unit in the layer.
    expect(step('create').exitCode, step('create').stderr).toBe(0);
    expect(json('create').data).toMatchObject({ volume: 'var_log', layer: 'Base-1-0+2', movedIn: ['messages', 'sub'] });
    const moved = step('logFiles')
      .stdout.split('\n')
      .filter((l) => l && !l.startsWith('. '));
    const inVolume = step('volumeFiles').stdout.split('\n');
    for (const line of moved) expect(inVolume, line).toContain(line);
    const [leftInLayer, unit, link] = step('layerAfterCreate').stdout.split('---\n');
    expect(leftInLayer).toBe('');
    expect(unit).toContain('What=/dev/onn/var_log\nWhere=/var/log\nType=ext4\nOptions=discard\n');
    expect(link!.trim()).toBe('/etc/systemd/system/var-log.mount');
    expect(step('lvsAfterCreate').stdout).toMatch(/var_log\s+imgbased:volume\s+256\.00/);
    expect([step('removeInUse').exitCode, JSON.parse(step('removeInUse').stdout).error.code]).toEqual([
      1,
      'E_VOLUME_IN_USE',
    ]);
    expect(stateOf(step('afterInUse'))).toEqual(stateOf(step('beforeInUse')));
    expect(json('detach').data).toMatchObject({ action: 'detach', unit: 'var-log.mount' });
    expect(json('attach').data).toMatchObject({ action: 'attach', layer: 'Base-1-0+2' });

    // layer --diff agrees with diff -r of the trees layer --mount mounted.
    expect(step('meddle').exitCode, step('meddle').stderr).toBe(0);
    expect(step('diff').exitCode, step('diff').stderr).toBe(0);
    expect(step('mountA').exitCode, step('mountA').stderr).toBe(0);
    const diffR = step('diffR').stdout.split('\n');
    expect(
      diffR.some((l) => l.startsWith('/mnt/a ro')),
      diffR.join('\n'),
    ).toBe(true);
    compareWithDiffR(json('diff').data, diffR, '/mnt/a', '/mnt/b');
    const motdChange = json('diff').data.changed.find((c: { path: string }) => c.path === '/etc/motd');
    expect(motdChange.diff).toContain('+changed');
    expect(json('rwBase').error.code).toBe('E_MOUNT_REFUSED');
    for (const name of ['umountA', 'umountB']) expect(step(name).exitCode, step(name).stderr).toBe(0);
    expect(step('mountsLeft').stdout.trim()).toBe('0');

    // The daemon's answers are the CLI's, byte for byte.
    reads.forEach(([argv], n) => {
      const daemon = withStatus(step(`get${n}`).stdout);
      expect(daemon.body, argv.join(' ')).toBe(step(`cli${n}`).stdout);
      expect(daemon.status, argv.join(' ')).toBe(200);
    });
    expect(step('motdFile').stdout).toBe(`${json('cli2').data.line}\n`);
  });
});
