// The seed README's example session, verbatim, on a host laid out like `autopart --type=thinp`, with
// every outcome read back from the real lvs and blkid.
import { describe, expect, it } from 'vitest';
import { IMGBASE, LVS, parseLvs, row, runScenario } from './support/scenario.ts';

const BLKID = (lv: string) => ['blkid', '-o', 'value', '-s', 'UUID', `/dev/onn/${lv}`];

describe('imgbase on real LVM thin: the seed README session', () => {
  it('initialises, adds a base and layers, and protects bases', async () => {
    const s = await runScenario([
      /* 0 */ [IMGBASE, 'layout', '--init', 'Base-1-0', '--from', 'onn/root'],
      /* 1 */ [IMGBASE, 'layout'],
      /* 2 */ [IMGBASE, 'base', '--add', 'Base-2-0', '--size', '1G'],
      /* 3 */ [IMGBASE, 'base', '--latest'],
      /* 4 */ [IMGBASE, 'layer', '--add', 'Base-1-0'],
      /* 5 */ [IMGBASE, '--debug', 'layer', '--add'],
      /* 6 */ LVS,
      /* 7 */ ['lvm', 'lvchange', '-ay', '-K', 'onn/Base-1-0', 'onn/Base-2-0'],
      /* 8 */ BLKID('root'),
      /* 9 */ BLKID('Base-1-0'),
      /* 10 */ BLKID('Base-1-0+1'),
      /* 11 */ BLKID('Base-1-0+2'),
      /* 12 */ BLKID('Base-2-0'),
      /* 13 */ BLKID('Base-2-0+1'),
      /* 14 */ ['e2fsck', '-fn', '/dev/onn/Base-1-0+2'],
      /* 15 */ [IMGBASE, 'layout', '--json'],
      /* 16 */ [IMGBASE, 'layout', '--bases'],
      /* 17 */ [IMGBASE, 'layout', '--layers'],
      /* 18 */ [IMGBASE, 'base', '--of-layer', 'Base-1-0+2'],
      /* 19 */ [IMGBASE, 'layer', '--latest'],
      /* 20 */ [IMGBASE, 'layer', '--volume-path', 'Base-1-0+2'],
      /* 21 */ [IMGBASE, 'layout', '--free-space', '--units', 'm'],
      /* 22 */ [
        'lvm',
        'lvs',
        '--reportformat',
        'json',
        '--units',
        'm',
        '--nosuffix',
        '-o',
        'lv_size,data_percent',
        'onn/pool00',
      ],
      /* 23 */ [IMGBASE, '--version'],
    ]);
    for (const i of [0, 1, 2, 3, 4, 5])
      expect(s.step(i).exitCode, `${s.step(i).argv.join(' ')}: ${s.step(i).stderr}`).toBe(0);
    expect(s.step(0).stdout).toBe('Created Base-1-0\nCreated Base-1-0+1\n');
    expect(s.step(1).stdout).toBe('Base-1-0\n +- Base-1-0+1\n');
    expect(s.step(3).stdout).toBe('Base-2-0\n');
    expect(s.step(4).stdout).toBe('Created Base-1-0+2\n');
    expect(s.step(5).stdout).toBe('Created Base-2-0+1\n');
    expect(s.step(5).stderr).toContain('$ lvm lvcreate');

    const lvs = parseLvs(s.step(6));
    expect(row(lvs, 'root').lv_tags).toBe('imgbased:init');
    expect(row(lvs, 'pool00').lv_tags).toBe('imgbased:pool');
    expect(row(lvs, 'root').vg_tags).toBe('imgbased:vg');
    for (const base of ['Base-1-0', 'Base-2-0']) {
      const r = row(lvs, base);
      expect(r.lv_tags).toBe('imgbased:base');
      expect(r.lv_attr[1], `${base} read-only`).toBe('r');
      expect(r.lv_attr[9], `${base} activation skip`).toBe('k');
      expect(r.lv_attr[4], `${base} inactive`).toBe('-');
      expect(r.pool_lv).toBe('pool00');
    }
    expect(row(lvs, 'Base-1-0').origin).toBe('root');
    expect(row(lvs, 'Base-2-0').lv_size).toBe(String(1024 ** 3));
    for (const [layer, origin] of [
      ['Base-1-0+1', 'Base-1-0'],
      ['Base-1-0+2', 'Base-1-0+1'],
      ['Base-2-0+1', 'Base-2-0'],
    ] as const) {
      const r = row(lvs, layer);
      expect(r.lv_tags).toBe('imgbased:layer');
      expect(r.origin).toBe(origin);
      expect(r.lv_attr[1], `${layer} writable`).toBe('w');
      expect(r.lv_attr[9], `${layer} no activation skip`).toBe('-');
      expect(r.lv_attr[4], `${layer} active`).toBe('a');
    }
    expect(lvs.some((r) => r.lv_tags.includes('pending'))).toBe(false);

    expect(s.step(7).exitCode, s.step(7).stderr).toBe(0);
    const uuid = Object.fromEntries(
      ['root', 'Base-1-0', 'Base-1-0+1', 'Base-1-0+2', 'Base-2-0', 'Base-2-0+1'].map((lv, i) => [
        lv,
        s.step(8 + i).stdout.trim(),
      ]),
    );
    for (const value of Object.values(uuid)) expect(value).toMatch(/^[0-9a-f-]{36}$/);
    // A base is a plain copy of its origin; every layer gets a UUID of its own.
    expect(uuid['Base-1-0']).toBe(uuid.root);
    expect(
      new Set([uuid.root, uuid['Base-1-0+1'], uuid['Base-1-0+2'], uuid['Base-2-0'], uuid['Base-2-0+1']]).size,
    ).toBe(5);
    expect(s.step(14).exitCode, s.step(14).stdout).toBe(0);

    const json = JSON.parse(s.step(15).stdout);
    expect(json.schemaVersion).toBe(1);
    expect(
      json.data.bases.map((b: { name: string; layers: { name: string }[] }) => [b.name, b.layers.map((l) => l.name)]),
    ).toEqual([
      ['Base-1-0', ['Base-1-0+1', 'Base-1-0+2']],
      ['Base-2-0', ['Base-2-0+1']],
    ]);
    expect(s.step(16).stdout).toBe('Base-1-0\nBase-2-0\n');
    expect(s.step(17).stdout).toBe('Base-1-0+1\nBase-1-0+2\nBase-2-0+1\n');
    expect(s.step(18).stdout).toBe('Base-1-0\n');
    expect(s.step(19).stdout).toBe('Base-2-0+1\n');
    expect(s.step(20).stdout).toBe('/dev/onn/Base-1-0+2\n');
    const pool = (JSON.parse(s.step(22).stdout) as { report: { lv: { lv_size: string; data_percent: string }[] }[] })
      .report[0]!.lv[0]!;
    const expectedFree = Number(pool.lv_size) * (1 - Number(pool.data_percent) / 100);
    expect(Number(s.step(21).stdout)).toBeCloseTo(expectedFree, -1);
    expect(s.step(23).stdout).toMatch(/^imgbased-\d+\.\d+\.\d+\n$/);
  });
});
