// imgbase check, status and motd on the in-memory host: each finding is made to happen and judged.
import { describe, expect, it } from 'vitest';
import { entryIdForLayer } from '../../boot/entries.js';
import { Tags } from '../../layout/tags.js';
import { adminHost, runFromLayer } from '../../testing/index.js';
import { MOTD_FILE } from './motd.js';

const statusOf = (report: { findings: { check: string; status: string }[] }, check: string) =>
  report.findings.filter((f) => f.check === check).map((f) => f.status);

describe('imgbase check', () => {
  it('is ok (exit code 0) on a fresh layout, and says why mount points are not judged', async () => {
    const h = await adminHost();
    const report = await h.engine().check();
    expect(report.findings.filter((f) => f.status !== 'ok' && f.status !== 'skip')).toEqual([]);
    expect([report.health, report.exitCode]).toEqual(['ok', 0]);
    expect(statusOf(report, 'running-layer')).toEqual(['skip']);
    expect(h.lock.purposes).toEqual([]);
  });

  it('is degraded (1) past the warn threshold and failed (2) past the fail threshold, as configured', async () => {
    const h = await adminHost();
    h.volumes.pools[0]!.dataPercent = 81;
    expect((await h.engine().check()).exitCode).toBe(1);
    h.config.check.pool_data_warn = 90;
    expect((await h.engine().check()).exitCode).toBe(0);
    h.volumes.pools[0]!.metadataPercent = 90;
    const failed = await h.engine().check();
    expect([failed.health, failed.exitCode, statusOf(failed, 'pool-metadata')]).toEqual(['failed', 2, ['fail']]);
  });

  it('fails when a layer has no entry, an entry boots a missing volume, the default or a kernel is gone', async () => {
    const h = await adminHost();
    h.boot.entries = h.boot.entries.filter((e) => e.layer !== 'Base-1-0+1');
    let report = await h.engine().check();
    expect(report.findings.find((f) => f.check === 'entry-per-layer')).toMatchObject({
      status: 'fail',
      targets: ['Base-1-0+1'],
    });
    expect(report.exitCode).toBe(2);

    const h2 = await adminHost();
    h2.boot.entries.push({ ...h2.boot.entries[0]!, id: 'gone', layer: 'Base-9-0+1' });
    h2.boot.defaultId = 'nothing';
    h2.host.directories['/boot/Base-1-0+2'] = [];
    report = await h2.engine().check();
    expect(statusOf(report, 'entry-volumes')).toEqual(['fail']);
    expect(statusOf(report, 'default-entry')).toEqual(['fail']);
    expect(report.findings.find((f) => f.check === 'boot-files')?.message).toContain('/boot/Base-1-0+2/');
  });

  it('warns of leftovers (pending volume, stale lock, leftover mount) and a pool that does not autoextend', async () => {
    const h = await adminHost();
    h.volumes.addVolume({ vg: 'onn', name: 'stray', pool: 'pool00', tags: [Tags.pending] });
    h.filesystem.leftovers.push({ directory: '/tmp/imgbased-mnt-1-x/root', source: '/dev/onn/stray' });
    Object.assign(h.lock, {
      inspect: async () => ({ path: '/run/imgbased/lock', holder: 'pid 7: update', stale: true }),
    });
    h.autoextend.threshold = 100;
    const report = await h.engine().check();
    expect(report.findings.filter((f) => f.status === 'warn').map((f) => f.check)).toEqual([
      'autoextend',
      'remove-stale-lock',
      'leftover-mounts',
      'pending-volumes',
    ]);
    expect(report.exitCode).toBe(1);
  });

  it('judges the mount points of a host running from a layer: discard, separate paths, fstab’s root', async () => {
    const h = await adminHost();
    runFromLayer(h, 'Base-1-0+2');
    h.config.check.separate_paths = ['/var/log'];
    h.files.files.set('/etc/fstab', '/dev/onn/Base-1-0+1 / ext4 defaults,discard 1 1\n');
    let report = await h.engine().check();
    expect(statusOf(report, 'discard')).toEqual(['ok']);
    expect(statusOf(report, 'separate-path')).toEqual(['warn']);
    expect(report.findings.find((f) => f.check === 'fstab-root')?.message).toContain('runs from Base-1-0+2');
    h.mounts.entries[0] = { ...h.mounts.entries[0]!, options: ['rw'] };
    h.mounts.entries.push({
      target: '/var/log',
      source: '/dev/onn/var_log',
      fstype: 'ext4',
      options: ['rw'],
      device: undefined,
    });
    h.files.files.set('/etc/fstab', '# x\n/dev/mapper/onn-Base--1--0+2 / ext4 defaults 1 1\n');
    report = await h.engine().check();
    expect(statusOf(report, 'separate-path')).toEqual(['ok']);
    expect(statusOf(report, 'fstab-root')).toEqual(['ok']);
    expect(report.findings.find((f) => f.check === 'discard')).toMatchObject({ status: 'warn', targets: ['/'] });
  });
});

describe('imgbase status', () => {
  it('tells the running layer, the default and next boot, each layer’s entries, the pool and the warnings', async () => {
    const h = await adminHost();
    runFromLayer(h, 'Base-1-0+1');
    h.boot.nextId = entryIdForLayer('Base-1-0+1');
    h.volumes.pools[0]!.dataPercent = 85;
    const status = await h.engine().status();
    expect(status).toMatchObject({
      running: 'Base-1-0+1',
      bootloader: 'memory',
      defaultBoot: { layer: 'Base-1-0+2' },
      nextBoot: { layer: 'Base-1-0+1' },
      lastUpdate: null,
      pool: { name: 'onn/pool00', dataPercent: 85 },
      health: 'degraded',
    });
    expect(status.layers).toEqual([
      { name: 'Base-1-0+1', base: 'Base-1-0', running: true, entries: 1, bootsByDefault: false, bootsNext: true },
      { name: 'Base-1-0+2', base: 'Base-1-0', running: false, entries: 1, bootsByDefault: true, bootsNext: false },
    ]);
    expect(status.warnings).toEqual([expect.stringContaining('data 85.0% used')]);
  });
});

describe('imgbase motd', () => {
  it('shows OK, or DEGRADED with the reason; --update writes the file under the lock, a dry run writes nothing', async () => {
    const h = await adminHost();
    runFromLayer(h, 'Base-1-0+2');
    expect((await h.engine().motd(false)).line).toBe('imgbased: OK (running Base-1-0+2)');
    h.volumes.pools[0]!.dataPercent = 81;
    const dry = await h.engine().motd(true, { dryRun: true });
    expect([dry.dryRun, h.files.files.has(MOTD_FILE), h.lock.purposes]).toEqual([true, false, []]);
    const written = await h.engine().motd(true);
    expect(written.line).toMatch(
      /^imgbased: DEGRADED \(running Base-1-0\+2\): Thin pool onn\/pool00 data 81\.0% used .*; see 'imgbase check'$/,
    );
    expect(h.files.files.get(MOTD_FILE)).toBe(`${written.line}\n`);
    expect([written.changed, (await h.engine().motd(true)).changed, h.lock.purposes]).toEqual([
      true,
      false,
      ['motd --update', 'motd --update'],
    ]);
  });
});
