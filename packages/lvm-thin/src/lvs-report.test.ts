import { ImgbasedError, InternalError } from '@imgbased/core';
import { describe, expect, it } from 'vitest';
import { LVS_ARGV, LVS_FIELDS, parseLvsReport } from './lvs-report.js';
import { HIDDEN_ROWS, HOST_ROWS, lvsJson, NAMES } from './testing/lvs-samples.js';

function internalError(run: () => unknown): InternalError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InternalError);
    return error as InternalError;
  }
  throw new Error('expected an InternalError');
}

describe('LVS_ARGV', () => {
  it('is one JSON lvs call in bytes, without internal LVs', () => {
    expect(LVS_ARGV).toEqual([
      'lvm',
      'lvs',
      '--reportformat',
      'json',
      '--units',
      'b',
      '--nosuffix',
      '-o',
      'lv_name,vg_name,lv_path,lv_size,lv_attr,lv_tags,vg_tags,vg_size,vg_free,origin,pool_lv,segtype,data_percent,metadata_percent,lv_metadata_size,lv_kernel_major,lv_kernel_minor',
    ]);
    expect(LVS_ARGV).not.toContain('-a');
    expect(LVS_ARGV.at(-1)).toBe(LVS_FIELDS.join(','));
  });
});

describe('parseLvsReport', () => {
  const report = parseLvsReport(lvsJson(HOST_ROWS));
  const volume = (name: string) => report.volumes.find((v) => v.name === name);

  it('lists each volume group once, from the vg_* fields', () => {
    expect(report.groups).toEqual([
      { name: 'data', tags: [], sizeBytes: 21470642176, freeBytes: 4290772992 },
      { name: 'onn', tags: ['imgbased:vg'], sizeBytes: 53687091200, freeBytes: 1069547520 },
    ]);
  });

  it('lists thin pools apart, with usage and metadata size', () => {
    expect(report.pools).toEqual([
      {
        vg: 'onn',
        name: 'pool00',
        sizeBytes: 42949672960,
        dataPercent: 12.34,
        metadataPercent: 5.67,
        metadataSizeBytes: 1073741824,
        tags: ['imgbased:pool'],
      },
    ]);
    expect(volume('pool00')).toBeUndefined();
  });

  it('lists every other visible LV once, in lvs order', () => {
    expect(report.volumes.map((v) => `${v.vg}/${v.name}`)).toEqual([
      'data/scratch',
      'data/root-old',
      `onn/${NAMES.BASE}`,
      `onn/${NAMES.LAYER}`,
      'onn/swap',
      'onn/var',
    ]);
  });

  it('reads a read-only, activation-skipped, inactive base', () => {
    expect(volume(NAMES.BASE)).toEqual({
      vg: 'onn',
      name: NAMES.BASE,
      path: `/dev/onn/${NAMES.BASE}`,
      sizeBytes: 10737418240,
      tags: ['imgbased:base'],
      pool: 'pool00',
      origin: undefined,
      readOnly: true,
      activationSkip: true,
      active: false,
      device: undefined,
      segmentType: 'thin',
    });
  });

  it('reads an active layer: origin, device numbers, writable', () => {
    expect(volume(NAMES.LAYER)).toMatchObject({
      origin: NAMES.BASE,
      pool: 'pool00',
      readOnly: false,
      activationSkip: false,
      active: true,
      device: { major: 253, minor: 4 },
      tags: ['imgbased:layer'],
    });
  });

  it('reads several tags, and R (read-only activation of a writable LV) as writable', () => {
    expect(volume('var')).toMatchObject({ tags: ['imgbased:volume', 'imgbased:pending'], readOnly: false });
  });

  it('reads a volume that is not thin: no pool', () => {
    expect(volume('swap')).toMatchObject({ pool: undefined, segmentType: 'linear', active: true });
    expect(volume('root-old')).toMatchObject({
      vg: 'data',
      tags: ['imgbased:init', 'keep'],
      device: { major: 253, minor: 6 },
    });
    expect(volume('scratch')).toMatchObject({ active: false, device: undefined, readOnly: false });
  });

  it('skips internal LVs, should they be listed', () => {
    const withHidden = parseLvsReport(lvsJson([...HOST_ROWS, ...HIDDEN_ROWS]));
    expect(withHidden).toEqual(report);
  });

  it('reports an inactive pool as 0% used', () => {
    const row = HOST_ROWS.find((r) => r[0] === 'pool00')!;
    const inactive = [...row];
    inactive[4] = 'twi---tz--';
    inactive[12] = '';
    inactive[13] = '';
    expect(parseLvsReport(lvsJson([inactive])).pools[0]).toMatchObject({ dataPercent: 0, metadataPercent: 0 });
  });

  it('reads a host without volumes', () => {
    expect(parseLvsReport(lvsJson([]))).toEqual({ groups: [], pools: [], volumes: [] });
  });

  it('falls back to /dev/VG/LV when lv_path is blank', () => {
    const row = [...HOST_ROWS[4]!];
    row[2] = '';
    expect(parseLvsReport(lvsJson([row])).volumes[0]?.path).toBe(`/dev/onn/${NAMES.LAYER}`);
  });

  it('ignores other report sections (the command log)', () => {
    const json = JSON.parse(lvsJson(HOST_ROWS));
    json.log = [{ log_seq_num: '1', log_type: 'status', log_message: 'ok' }];
    json.report.unshift({ log: [] });
    expect(parseLvsReport(JSON.stringify(json))).toEqual(report);
  });
});

describe('parseLvsReport on unexpected output', () => {
  const cases: Record<string, string> = {
    'not JSON': '  WARNING: something\n{"report": [',
    empty: '',
    'no report': '{"lv": []}',
    'report not a list': '{"report": {"lv": []}}',
    'no lv list': '{"report": [{"vg": []}]}',
    'lv not a list': '{"report": [{"lv": {}}]}',
    'row not an object': '{"report": [{"lv": ["x"]}]}',
    'missing field': lvsJson([]).replace('"lv": [', '"lv": [{"lv_name": "a", "vg_name": "b"}'),
    'number instead of string': JSON.stringify({
      report: [{ lv: [Object.fromEntries(LVS_FIELDS.map((f) => [f, f === 'lv_size' ? 1 : '']))] }],
    }),
    'size with suffix': lvsJson([HOST_ROWS[2]!.map((v, i) => (i === 3 ? '8589934592B' : v))]),
    'short lv_attr': lvsJson([HOST_ROWS[2]!.map((v, i) => (i === 4 ? '-wi-a-' : v))]),
    'non-numeric kernel major': lvsJson([HOST_ROWS[2]!.map((v, i) => (i === 15 ? 'x' : v))]),
  };
  for (const [name, stdout] of Object.entries(cases)) {
    it(`throws InternalError with the raw text as cause: ${name}`, () => {
      const error = internalError(() => parseLvsReport(stdout));
      expect(error.code).toBe('E_INTERNAL');
      expect(error.message).toMatch(/^Unexpected 'lvm lvs' output: /);
      expect(error.cause).toBe(stdout);
      expect(error).toBeInstanceOf(ImgbasedError);
    });
  }
});
