// A drop-in successor: imgbase on hosts the original oVirt imgbased (1.2.x) laid out. One VM run on
// the fixture that reproduces an oVirt Node host's state (tests every verb on it, in order), one on a
// layout the real original made (skipped, saying so, when its source is not in the cache).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBaseImage, buildThinpHostDisk, makeScratchDir } from '../src/index.ts';
import {
  buildOriginalHostDisk,
  ORIGINAL_FIRST_BASE as FIRST,
  ORIGINAL_VOLUMES,
  originalEntryFile,
  ORIGINAL_SECOND_BASE as SECOND,
} from '../src/original-host.ts';
import { IMGBASE, inVm } from './support/boot-scenario.ts';
import {
  data,
  LVS,
  OPEN_ORIGINAL_HOST,
  ORIGINAL_CLI,
  ORIGINAL_MISSING,
  ORIGINAL_SKIP_REASON,
  sections,
  volumes,
} from './support/original-scenario.ts';
import { buildUpdateImage } from './support/update-scenario.ts';

const THIRD = 'ovirt-node-ng-4.5.7-0.20250101.0';
const FOURTH = 'ovirt-node-ng-4.5.8-0.20250601.0';
const ENTRIES = '/boot/loader/entries';
const ourId = (layer: string) =>
  `imgbased-${layer.slice(0, layer.lastIndexOf('+'))}-layer${layer.slice(layer.lastIndexOf('+') + 1)}`;
const theirId = (layer: string) => originalEntryFile(layer).slice(0, -'.conf'.length);
const imgbase = (args: string) => `${IMGBASE} ${args}`;

interface Layout {
  bases: { name: string; layers: { name: string }[] }[];
  orphanLayers: unknown[];
  volumes: { name: string; mountPoint: string }[];
}
interface BootList {
  default: string | null;
  entries: { id: string; layer: string | null }[];
}
const tree = (layout: Layout) => layout.bases.map((b) => [b.name, b.layers.map((l) => l.name)]);

describe('imgbase on a host the original imgbased laid out', () => {
  it('reads it, adds layers and bases, keeps and uses its boot entries, adopts it, removes its first base, updates', async () => {
    const dir = await makeScratchDir('original-host');
    const disk = await buildOriginalHostDisk(path.join(dir, 'host.img'));
    const image = await buildBaseImage(path.join(dir, `${THIRD}.img`), { nvr: THIRD });
    const update = await buildUpdateImage(path.join(dir, `${FOURTH}.img`), {
      nvr: FOURTH,
      format: 'ext4',
      bootable: false,
    });
    const originals = `${ENTRIES}/${originalEntryFile(`${FIRST}+1`)} ${ENTRIES}/${originalEntryFile(`${SECOND}+1`)} /boot/${FIRST}+1/* /boot/${SECOND}+1/*`;
    const started = Date.now();
    const out = await inVm(
      disk,
      `${OPEN_ORIGINAL_HOST}
${ORIGINAL_MISSING ? 'orig() { echo "(original not available)"; }' : ORIGINAL_CLI}
lvm lvchange -ay -K onn/${FIRST} >&2  # active, as the original's layout --init leaves it
echo @@sha-before; sha256sum ${originals}
echo @@layout; ${imgbase('layout --json')}
echo @@debug; ${imgbase('--debug layout')} 2>&1 >/dev/null
echo @@names; ${imgbase('layout --bases')}; ${imgbase('layout --layers')}; ${imgbase('base --latest')}; ${imgbase('layer --latest')}
echo @@boot-list; ${imgbase('boot --list --json')}
echo @@layer-add; ${imgbase('layer --add --json')}
echo @@base-add; ${imgbase(`base --add ${THIRD} --size 1G ${image} --json`)}
echo @@sha-after; sha256sum ${originals}
echo @@entries; ls ${ENTRIES}
echo @@boot-list-2; ${imgbase('boot --list --json')}
echo @@set-default; ${imgbase(`boot --set-default ${FIRST}+1 >&2`)}; grub-editenv /boot/grub2/grubenv list
echo @@lvs-before-adopt; ${LVS}
echo @@adopt-dry; ${imgbase('layout --adopt --dry-run --json')}
echo @@lvs-after-dry; ${LVS}
echo @@adopt; ${imgbase('layout --adopt --json')}
echo @@lvs-adopted; ${LVS}
echo @@original-layout; orig layout
echo @@base-remove; ${imgbase(`base --remove ${FIRST} --json`)}
echo @@after-remove; ${LVS}; ls /boot; ls ${ENTRIES}; sha256sum ${ENTRIES}/${originalEntryFile(`${SECOND}+1`)}
echo @@boot-list-3; ${imgbase('boot --list --json')}
echo @@update; ${imgbase(`update --json --keep 10 --from ${SECOND}+1 ${update}`)}
echo @@boot-list-4; ${imgbase('boot --list --json')}
echo @@lvs-end; ${LVS}
echo @@pool; lvm lvs --noheadings --units g -o lv_profile,lv_metadata_size onn/pool00
umount /boot`,
    );
    const s = sections(out);
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(`original-host fixture: one VM run, ${seconds} s`);

    // Every read verb is right.
    const layout = data<Layout>(s.layout);
    expect(tree(layout)).toEqual([
      [FIRST, [`${FIRST}+1`]],
      [SECOND, [`${SECOND}+1`]],
    ]);
    expect(layout.orphanLayers).toEqual([]);
    expect(layout.volumes.map((v) => v.name).sort()).toEqual(Object.keys(ORIGINAL_VOLUMES).sort());
    expect(layout.volumes.find((v) => v.name === 'var_log_audit')?.mountPoint).toBe('/var/log/audit');
    expect(s.debug).toContain(`${FIRST} is tagged imgbased:layer but named as a base (NVR): read as a base`);
    expect(s.names!.trim().split('\n')).toEqual([FIRST, SECOND, `${FIRST}+1`, `${SECOND}+1`, SECOND, `${SECOND}+1`]);

    // Its boot entries are their layers' entries, once each, the default the one it set by title.
    const list = data<BootList>(s['boot-list']);
    expect(list.entries.map((e) => [e.layer, e.id])).toEqual([
      [`${FIRST}+1`, theirId(`${FIRST}+1`)],
      [`${SECOND}+1`, theirId(`${SECOND}+1`)],
    ]);
    expect(list.default).toBe(theirId(`${SECOND}+1`));

    // layer --add and base --add work, leaving the original's entries and kernels byte for byte.
    expect(data(s['layer-add'])).toMatchObject({ created: [`${SECOND}+2`], boot: { added: [ourId(`${SECOND}+2`)] } });
    expect(data(s['base-add'])).toMatchObject({ created: [THIRD] });
    expect(s['sha-after']).toBe(s['sha-before']);
    expect(s.entries!.trim().split('\n').sort()).toEqual(
      [originalEntryFile(`${FIRST}+1`), originalEntryFile(`${SECOND}+1`), `${ourId(`${SECOND}+2`)}.conf`].sort(),
    );
    const list2 = data<BootList>(s['boot-list-2']);
    expect(list2.entries.map((e) => e.layer).sort()).toEqual([`${FIRST}+1`, `${SECOND}+1`, `${SECOND}+2`]);
    expect(list2.default).toBe(ourId(`${SECOND}+2`));
    expect(s['set-default']).toContain(`saved_entry=${theirId(`${FIRST}+1`)}`);

    // layout --adopt: a dry run changes nothing; then the first base is tagged and protected as a base.
    expect(data<{ steps: { volume: string; step: string }[] }>(s['adopt-dry']).steps).toEqual([
      expect.objectContaining({ volume: FIRST, step: 'tag' }),
      expect.objectContaining({ volume: FIRST, step: 'protect' }),
    ]);
    expect(s['lvs-after-dry']).toBe(s['lvs-before-adopt']);
    const before = volumes(s['lvs-before-adopt']);
    const adopted = volumes(s['lvs-adopted']);
    expect(before[FIRST]).toEqual(['Vwi-a-tz-k', 'imgbased:layer', 'root']);
    expect(adopted[FIRST]).toEqual(['Vri---tz-k', 'imgbased:base', 'root']);
    for (const name of Object.keys(before).filter((n) => n !== FIRST))
      expect(adopted[name], name).toEqual(before[name]);
    expect(adopted.pool00?.[1]).toBe('imgbased:pool');
    if (!ORIGINAL_MISSING) {
      // The original, still installed in older layers, reads the adopted layout as before.
      expect(s['original-layout']!.trim().split('\n')).toEqual([
        FIRST,
        ` +- ${FIRST}+1`,
        SECOND,
        ` +- ${SECOND}+1`,
        ` +- ${SECOND}+2`,
        THIRD,
      ]);
    }

    // base --remove takes the original's first base with its layer, entry and kernels; nothing else.
    expect(data(s['base-remove'])).toMatchObject({ removed: [`${FIRST}+1`, FIRST] });
    const afterRemove = s['after-remove']!;
    expect(afterRemove).not.toContain(`${FIRST}`);
    expect(afterRemove).toContain('var_log_audit');
    expect(afterRemove).toContain(`${SECOND}+1`);
    expect(s['sha-before']).toContain(afterRemove.trim().split('\n').at(-1)!.split(' ')[0]);
    const list3 = data<BootList>(s['boot-list-3']);
    expect(list3.entries.map((e) => e.layer).sort()).toEqual([`${SECOND}+1`, `${SECOND}+2`]);
    expect(list3.entries.map((e) => e.id)).toContain(list3.default);

    // update: a new base and layer with its entry; the original's entry is still its layer's, once.
    expect(data(s.update)).toMatchObject({ base: FOURTH });
    const list4 = data<BootList>(s['boot-list-4']);
    expect(list4.entries.map((e) => e.layer).sort()).toEqual([`${SECOND}+1`, `${SECOND}+2`, `${FOURTH}+1`]);
    expect(list4.entries.find((e) => e.layer === `${SECOND}+1`)?.id).toBe(theirId(`${SECOND}+1`));
    expect(volumes(s['lvs-end'])[`${FOURTH}+1`]).toEqual(['Vwi-a-tz--', 'imgbased:layer', FOURTH]);
    // The pool keeps the original's LVM profile and its 1 GiB metadata through all of it.
    expect(s.pool!.trim().split(/\s+/)).toEqual(['imgbased-pool', '1.00g']);
  });

  it.skipIf(ORIGINAL_MISSING)(
    'keeps a layout the real original made readable by the original after layer --add, base --add and layout --adopt',
    async () => {
      const dir = await makeScratchDir('original-real');
      const disk = (await buildThinpHostDisk(path.join(dir, 'host.img'))).path;
      const image = await buildBaseImage(path.join(dir, `${SECOND}.img`), { nvr: SECOND });
      const out = await inVm(
        disk,
        `${ORIGINAL_CLI}
lvm vgchange -ay onn >&2
mkdir -p /boot && mount /dev/vda1 /boot  # an empty boot partition: no bootloader, no entries
orig layout --from onn/root --init-nvr ${FIRST} >&2
echo @@ours; ${imgbase('layout --json')}
echo @@ours-names; ${imgbase('base --latest')}; ${imgbase('layer --latest')}
echo @@layer-add; ${imgbase('layer --add --json')}
echo @@base-add; ${imgbase(`base --add ${SECOND} --size 1G ${image} --json`)}
echo @@lvs; ${LVS}
echo @@orig-layout; orig layout
echo @@orig-names; orig layout --bases; orig layout --layers; orig base --latest; orig layer --latest
echo @@adopt; ${imgbase('layout --adopt --json')}
echo @@orig-adopted; orig layout
echo @@orig-layer-add; orig layer --add ${FIRST}+2 >&2; orig layer --add ${SECOND} >&2; ${LVS}
echo @@ours-end; ${imgbase('layout --layers')}
umount /boot`,
      );
      const s = sections(out);
      expect(tree(data<Layout>(s.ours))).toEqual([[FIRST, [`${FIRST}+1`]]]);
      expect(s['ours-names']!.trim().split('\n')).toEqual([FIRST, `${FIRST}+1`]);
      expect(data(s['layer-add'])).toMatchObject({ created: [`${FIRST}+2`] });
      expect(data(s['base-add'])).toMatchObject({ created: [SECOND] });
      // Names, tags, origins as the original makes them: its first base is tagged imgbased:layer.
      const lvs = volumes(s.lvs);
      expect(lvs[FIRST]).toEqual(['Vwi-a-tz-k', 'imgbased:layer', 'root']);
      expect(lvs[`${FIRST}+1`]).toEqual(['Vwi-a-tz--', 'imgbased:layer', FIRST]);
      expect(lvs[`${FIRST}+2`]).toEqual(['Vwi-a-tz--', 'imgbased:layer', `${FIRST}+1`]);
      expect(lvs[SECOND]).toEqual(['Vri---tz-k', 'imgbased:base', '-']);
      expect(lvs.root?.[1]).toBe('imgbased:init');
      // The original's own listing of the result is right.
      const listing = [FIRST, ` +- ${FIRST}+1`, ` +- ${FIRST}+2`, SECOND];
      expect(s['orig-layout']!.trim().split('\n')).toEqual(listing);
      expect(s['orig-names']!.trim().split('\n')).toEqual([
        FIRST,
        SECOND,
        `${FIRST}+1`,
        `${FIRST}+2`,
        SECOND,
        `${FIRST}+2`,
      ]);
      // After layout --adopt it still is, and it still adds layers: after the adopted first base's
      // newest (given a base name, it would count from +1), and onto ours' read-only base.
      expect(data<{ steps: unknown[] }>(s.adopt).steps).toHaveLength(2);
      expect(s['orig-adopted']!.trim().split('\n')).toEqual(listing);
      const end = volumes(s['orig-layer-add']);
      expect(end[FIRST]?.[1]).toBe('imgbased:base');
      expect(end[`${FIRST}+3`]).toEqual(['Vwi-a-tz--', 'imgbased:layer', `${FIRST}+2`]);
      expect(end[`${SECOND}+1`]).toEqual(['Vwi-a-tz--', 'imgbased:layer', SECOND]);
      expect(s['ours-end']!.trim().split('\n')).toEqual([`${FIRST}+1`, `${FIRST}+2`, `${FIRST}+3`, `${SECOND}+1`]);
    },
  );

  it.runIf(ORIGINAL_MISSING)('compares with the real original only when its source is in the cache', () => {
    console.warn(ORIGINAL_SKIP_REASON);
    expect(ORIGINAL_SKIP_REASON).toContain('skipped');
  });
});
