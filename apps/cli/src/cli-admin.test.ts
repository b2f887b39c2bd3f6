// The admin commands of imgbase over the in-memory host: flags to verbs, human output, check's exit codes.
import { adminHost, runFromLayer } from '@imgbased/core/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

type Host = Awaited<ReturnType<typeof adminHost>>;

async function imgbase(h: Host, argv: string[], { isRoot = true } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isRoot },
    version: '9.9.9',
    createEngine: async () => h.engine(),
  });
  return { code, stdout, stderr };
}

describe('imgbase check', () => {
  it('exits 0 ok, 1 degraded, 2 failed, with the same code under --json', async () => {
    const h = await adminHost();
    const ok = await imgbase(h, ['check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('[ ok ] bootloader Every layer has one memory entry\n');
    expect(ok.stdout.trimEnd().split('\n').at(-1)).toBe('imgbase check: ok (exit code 0)');
    h.volumes.pools[0]!.dataPercent = 85;
    expect((await imgbase(h, ['check'])).code).toBe(1);
    h.boot.entries = h.boot.entries.slice(1);
    const failed = await imgbase(h, ['check', '--json']);
    expect([failed.code, JSON.parse(failed.stdout).data.health]).toEqual([2, 'failed']);
    expect(failed.stdout).toContain('"check": "entry-per-layer"');
  });
});

describe('imgbase status, motd, recover', () => {
  it('status shows the running layer and the warnings; motd the one line', async () => {
    const h = await adminHost();
    runFromLayer(h, 'Base-1-0+1');
    const status = await imgbase(h, ['status']);
    expect(status.stdout).toContain('Running:     Base-1-0+1\n');
    expect(status.stdout).toContain('  * Base-1-0+1  (running)\n    Base-1-0+2  (default)\n');
    expect((await imgbase(h, ['motd'])).stdout).toBe('imgbased: OK (running Base-1-0+1)\n');
    expect(await imgbase(h, ['motd', '--update'], { isRoot: false })).toMatchObject({ code: 1 });
  });

  it('recover lists by default and repairs with --yes (root only)', async () => {
    const h = await adminHost();
    h.boot.entries = h.boot.entries.slice(1);
    const listed = await imgbase(h, ['recover']);
    expect(listed.stdout).toBe("Adding the missing boot entry of Base-1-0+1\nRun 'imgbase recover --yes' to repair\n");
    expect(JSON.parse((await imgbase(h, ['recover', '--list', '--json'])).stdout).verb).toBe('recover --list');
    expect((await imgbase(h, ['recover', '--yes'], { isRoot: false })).stderr).toContain('root');
    expect((await imgbase(h, ['recover', '--yes'])).stdout).toBe(
      'Recovered:\n  Adding the missing boot entry of Base-1-0+1\n',
    );
    expect((await imgbase(h, ['recover'])).stdout).toBe('Nothing to recover\n');
  });
});

describe('imgbase volume and layer --mount/--umount/--diff', () => {
  it('creates, lists and refuses volumes; a missing SIZE is a usage error', async () => {
    const h = await adminHost();
    expect((await imgbase(h, ['volume', '--create', '/var/log'])).code).toBe(2);
    const created = await imgbase(h, ['volume', '--create', '/var/log', '256M']);
    expect(created.stdout).toBe('Created var_log for /var/log; var-log.mount written into Base-1-0+2\n');
    expect((await imgbase(h, ['volume', '--list'])).stdout).toBe('/var/log  var_log  256 MiB  not mounted\n');
    const refused = await imgbase(h, ['volume', '--create', '/etc', '1G', '--json']);
    expect([refused.code, JSON.parse(refused.stdout).error.code]).toEqual([1, 'E_VOLUME_PATH_REFUSED']);
    expect((await imgbase(h, ['volume', '--list', '--remove', '/var/log'])).code).toBe(2);
  });

  it('mounts, unmounts and compares layers', async () => {
    const h = await adminHost();
    expect((await imgbase(h, ['layer', '--mount', 'Base-1-0+1', '/mnt/x'])).stdout).toBe(
      'Mounted Base-1-0+1 at /mnt/x (read-only)\n',
    );
    expect((await imgbase(h, ['layer', '--umount', 'Base-1-0+1'])).stdout).toBe('Unmounted Base-1-0+1 from /mnt/x\n');
    expect((await imgbase(h, ['layer', '--rw'])).code).toBe(2);
    h.trees.trees['/mnt/dev/onn/Base-1-0+1'] = [
      { path: '/a', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, mtimeMs: 1 },
    ];
    const diff = await imgbase(h, ['layer', '--diff', 'Base-1-0+1', 'Base-1-0+2']);
    expect(diff.stdout).toBe('- /a\n');
  });
});
