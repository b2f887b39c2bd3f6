import {
  InternalError,
  type StorageReport,
  type ThinPool,
  type ThinVolume,
  type VolumeGroup,
  volumePath,
} from '@imgbased/core';

/**
 * The `lvs` fields one report needs, in `lvs -o` order. lvs has no row for a volume group without any
 * logical volume, so such a group is absent from the report (it cannot hold a thin pool anyway).
 * `segtype` is a segment field: lvs prints one row per segment of a multi-segment LV (rows are deduplicated).
 */
export const LVS_FIELDS = [
  'lv_name',
  'vg_name',
  'lv_path',
  'lv_size',
  'lv_attr',
  'lv_tags',
  'vg_tags',
  'vg_size',
  'vg_free',
  'origin',
  'pool_lv',
  'segtype',
  'data_percent',
  'metadata_percent',
  'lv_metadata_size',
  'lv_kernel_major',
  'lv_kernel_minor',
] as const;

export type LvsField = (typeof LVS_FIELDS)[number];
export type LvsRow = Readonly<Record<LvsField, string>>;

/**
 * The one `lvs` call behind report(). No `-a`: internal LVs (`[pool00_tdata]`, `[pool00_tmeta]`,
 * `[lvol0_pmspare]`) stay out; the thin pool itself is a visible LV and is listed.
 */
export const LVS_ARGV: readonly string[] = [
  'lvm',
  'lvs',
  '--reportformat',
  'json',
  '--units',
  'b',
  '--nosuffix',
  '-o',
  LVS_FIELDS.join(','),
];

class LvsOutputError extends Error {}

function fail(reason: string): never {
  throw new LvsOutputError(reason);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rows of every `lv` list in `{"report":[{"lv":[{...}]}]}`, each checked to carry every field as a string. */
export function parseLvsRows(stdout: string): LvsRow[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (error) {
    fail(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(json) || !Array.isArray(json.report)) fail('no "report" list');
  const rows: LvsRow[] = [];
  let lists = 0;
  for (const section of json.report) {
    if (!isObject(section)) fail('a "report" entry is not an object');
    if (!('lv' in section)) continue;
    if (!Array.isArray(section.lv)) fail('"lv" is not a list');
    lists++;
    for (let index = 0; index < section.lv.length; index++) {
      const row: unknown = section.lv[index];
      if (!isObject(row)) fail(`lv row ${index} is not an object`);
      for (const field of LVS_FIELDS) {
        if (typeof row[field] !== 'string') fail(`lv row ${index} has no string field "${field}"`);
      }
      rows.push(row as LvsRow);
    }
  }
  if (lists === 0) fail('no "lv" list in "report"');
  return rows;
}

function bytes(row: LvsRow, field: LvsField, ifEmpty?: number): number {
  const text = row[field].trim();
  if (text === '' && ifEmpty !== undefined) return ifEmpty;
  if (!/^\d+(\.0*)?$/.test(text)) fail(`${row.lv_name}: ${field} "${text}" is not a byte count`);
  const value = Number.parseInt(text, 10);
  if (!Number.isSafeInteger(value)) fail(`${row.lv_name}: ${field} "${text}" is too large`);
  return value;
}

/** Percentages are empty while a pool is inactive: reported as 0. */
function percent(row: LvsRow, field: LvsField): number {
  const text = row[field].trim();
  if (text === '') return 0;
  if (!/^\d+(\.\d+)?$/.test(text)) fail(`${row.lv_name}: ${field} "${text}" is not a percentage`);
  return Number.parseFloat(text);
}

function integer(row: LvsRow, field: LvsField): number | undefined {
  const text = row[field].trim();
  if (text === '') return undefined;
  if (!/^-?\d+$/.test(text)) fail(`${row.lv_name}: ${field} "${text}" is not an integer`);
  return Number.parseInt(text, 10);
}

function tags(text: string): string[] {
  if (text === '') return []; // untagged: nothing to split
  return text
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

function orUndefined(text: string): string | undefined {
  return text === '' ? undefined : text;
}

function toVolume(row: LvsRow): ThinVolume {
  const attr = row.lv_attr;
  // lv_attr (lvs(8)): 1 type, 2 permission (w)/(r)/(R: read-only activation of a writable LV),
  // 5 state (a)ctive, 10 s(k)ip activation. lvm2 2.03 always prints 10 characters.
  if (attr.length < 10) fail(`${row.lv_name}: lv_attr "${attr}" is shorter than 10 characters`);
  const major = integer(row, 'lv_kernel_major');
  const minor = integer(row, 'lv_kernel_minor');
  const vg = row.vg_name;
  const name = row.lv_name;
  return {
    vg,
    name,
    path: row.lv_path === '' ? volumePath({ vg, name }) : row.lv_path,
    sizeBytes: bytes(row, 'lv_size'),
    tags: tags(row.lv_tags),
    pool: row.segtype === 'thin' ? orUndefined(row.pool_lv) : undefined,
    origin: orUndefined(row.origin),
    readOnly: attr[1] === 'r',
    activationSkip: attr[9] === 'k',
    active: attr[4] === 'a',
    device: major !== undefined && minor !== undefined && major >= 0 && minor >= 0 ? { major, minor } : undefined,
    segmentType: row.segtype,
    ...(row.segtype === 'thin' && row.data_percent.trim() !== '' ? { dataPercent: percent(row, 'data_percent') } : {}),
  };
}

function toPool(row: LvsRow): ThinPool {
  return {
    vg: row.vg_name,
    name: row.lv_name,
    sizeBytes: bytes(row, 'lv_size'),
    dataPercent: percent(row, 'data_percent'),
    metadataPercent: percent(row, 'metadata_percent'),
    metadataSizeBytes: bytes(row, 'lv_metadata_size', 0),
    tags: tags(row.lv_tags),
  };
}

/**
 * Turns the JSON that {@link LVS_ARGV} prints into a StorageReport. Pure. Groups come from the vg_* fields of
 * the rows (one per group), thin pools are the LVs of segment type `thin-pool`, every other visible LV is a
 * volume. Internal LVs (names in brackets) are ignored should they appear. Throws InternalError, with the raw
 * text as cause, when the output is not what lvm2 prints.
 */
export function parseLvsReport(stdout: string): StorageReport {
  try {
    const groups = new Map<string, VolumeGroup>();
    const pools: ThinPool[] = [];
    const volumes: ThinVolume[] = [];
    const seen = new Set<string>();
    for (const row of parseLvsRows(stdout)) {
      if (row.vg_name === '') fail(`lv row "${row.lv_name}" has no vg_name`);
      if (!groups.has(row.vg_name)) {
        groups.set(row.vg_name, {
          name: row.vg_name,
          tags: tags(row.vg_tags),
          sizeBytes: bytes(row, 'vg_size'),
          freeBytes: bytes(row, 'vg_free'),
        });
      }
      if (row.lv_name === '' || row.lv_name.startsWith('[')) continue;
      const key = `${row.vg_name}/${row.lv_name}`;
      if (seen.has(key)) continue; // further segments of a multi-segment LV
      seen.add(key);
      if (row.segtype === 'thin-pool') pools.push(toPool(row));
      else volumes.push(toVolume(row));
    }
    return { groups: [...groups.values()], pools, volumes };
  } catch (error) {
    if (!(error instanceof LvsOutputError)) throw error;
    throw new InternalError(`Unexpected 'lvm lvs' output: ${error.message}`, {
      cause: stdout.length > 4000 ? `${stdout.slice(0, 4000)}…` : stdout,
      details: { reason: error.message },
    });
  }
}
