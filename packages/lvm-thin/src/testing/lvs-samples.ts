/**
 * `lvm lvs --reportformat json --units b --nosuffix -o <LVS_FIELDS>` as lvm2 2.03.16 prints it: every value a
 * string, one row per line, empty strings for unset fields, -1 kernel numbers for inactive LVs.
 */

const FIELDS =
  'lv_name,vg_name,lv_path,lv_size,lv_attr,lv_tags,vg_tags,vg_size,vg_free,origin,pool_lv,segtype,data_percent,metadata_percent,lv_metadata_size,lv_kernel_major,lv_kernel_minor';

type Row = readonly string[];

function row(values: Row): string {
  const names = FIELDS.split(',');
  if (values.length !== names.length) throw new Error(`sample row has ${values.length} values`);
  return `{${names.map((name, i) => `"${name}":${JSON.stringify(values[i])}`).join(', ')}}`;
}

export function lvsJson(rows: readonly Row[]): string {
  const lines = rows.map((r) => `                  ${row(r)}`).join(',\n');
  return `  {
      "report": [
          {
              "lv": [
${lines}
              ]
          }
      ]
  }
`;
}

const BASE = 'ovirt-node-ng-4.5.0-0.20220307.0';
const LAYER = `${BASE}+1`;

/** A host with an imgbased layout (VG onn) and a second, plain VG (data). Sorted like lvs sorts: VG, then LV. */
// biome-ignore format: one lvs row per line
export const HOST_ROWS: readonly Row[] = [
  // lv_name, vg_name, lv_path, lv_size, lv_attr, lv_tags, vg_tags, vg_size, vg_free, origin, pool_lv, segtype,
  // data_percent, metadata_percent, lv_metadata_size, lv_kernel_major, lv_kernel_minor
  ['scratch', 'data', '/dev/data/scratch', '8589934592', '-wi-------', '', '', '21470642176', '4290772992', '', '', 'linear', '', '', '', '-1', '-1'],
  // a second segment of the same linear LV (segtype is a segment field)
  ['scratch', 'data', '/dev/data/scratch', '8589934592', '-wi-------', '', '', '21470642176', '4290772992', '', '', 'linear', '', '', '', '-1', '-1'],
  ['root-old', 'data', '/dev/data/root-old', '8589934592', '-wi-a-----', 'imgbased:init,keep', '', '21470642176', '4290772992', '', '', 'linear', '', '', '', '253', '6'],
  [BASE, 'onn', `/dev/onn/${BASE}`, '10737418240', 'Vri---tz-k', 'imgbased:base', 'imgbased:vg', '53687091200', '1069547520', '', 'pool00', 'thin', '', '', '', '-1', '-1'],
  [LAYER, 'onn', `/dev/onn/${LAYER}`, '10737418240', 'Vwi-aotz--', 'imgbased:layer', 'imgbased:vg', '53687091200', '1069547520', BASE, 'pool00', 'thin', '21.07', '', '', '253', '4'],
  ['pool00', 'onn', '', '42949672960', 'twi-aotz--', 'imgbased:pool', 'imgbased:vg', '53687091200', '1069547520', '', '', 'thin-pool', '12.34', '5.67', '1073741824', '253', '2'],
  ['swap', 'onn', '/dev/onn/swap', '4294967296', '-wi-ao----', '', 'imgbased:vg', '53687091200', '1069547520', '', '', 'linear', '', '', '', '253', '1'],
  ['var', 'onn', '/dev/onn/var', '16106127360', 'VRi-aotz--', 'imgbased:volume,imgbased:pending', 'imgbased:vg', '53687091200', '1069547520', '', 'pool00', 'thin', '3.05', '', '', '253', '5'],
];

/** Internal LVs as `lvs -a` would add them (report() does not pass -a; the parser skips them anyway). */
// biome-ignore format: one lvs row per line
export const HIDDEN_ROWS: readonly Row[] = [
  ['[lvol0_pmspare]', 'onn', '', '1073741824', 'ewi-------', '', 'imgbased:vg', '53687091200', '1069547520', '', '', 'linear', '', '', '', '-1', '-1'],
  ['[pool00_tdata]', 'onn', '', '42949672960', 'Twi-ao----', '', 'imgbased:vg', '53687091200', '1069547520', '', '', 'linear', '', '', '', '253', '0'],
  ['[pool00_tmeta]', 'onn', '', '1073741824', 'ewi-ao----', '', 'imgbased:vg', '53687091200', '1069547520', '', '', 'linear', '', '', '', '253', '3'],
];

export const NAMES = { BASE, LAYER } as const;
