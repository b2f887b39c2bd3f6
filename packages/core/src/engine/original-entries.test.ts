// The engine on a host the original laid out: its boot entries (`<layer>-<kver>`, found by
// img.bootid) survive every verb as their layers' entries, once each.
import { beforeEach, describe, expect, it } from 'vitest';
import { desiredEntryId, entryIdForLayer } from '../boot/entries.js';
import {
  ORIGINAL_FIRST_BASE as FIRST,
  FixedHost,
  ORIGINAL_KERNEL as KVER,
  type MemoryBootloader,
  MemoryLock,
  type MemoryVolumeManager,
  originalNodeHost,
  RecordingFilesystem,
  ORIGINAL_SECOND_BASE as SECOND,
} from '../testing/index.js';
import { ImageEngine } from './engine.js';

let volumes: MemoryVolumeManager;
let boot: MemoryBootloader;

function engine(): ImageEngine {
  return new ImageEngine(volumes, new RecordingFilesystem(), new FixedHost(), new MemoryLock(), boot);
}

function entriesByLayer(): [string | undefined, string][] {
  return boot.entries.map((e) => [e.layer, e.id]);
}

beforeEach(() => {
  ({ volumes, boot } = originalNodeHost());
});

describe('the entry id of a desired entry', () => {
  it('is the one it names, else the installed entry of its layer’s, else derived from the layer', () => {
    const installed = [{ id: `L-1-0+1-${KVER}`, layer: 'L-1-0+1' }];
    expect(desiredEntryId({ id: 'given', layer: 'L-1-0+1' }, installed)).toBe('given');
    expect(desiredEntryId({ layer: 'L-1-0+1' }, installed)).toBe(`L-1-0+1-${KVER}`);
    expect(desiredEntryId({ layer: 'L-1-0+2' }, installed)).toBe(entryIdForLayer('L-1-0+2'));
  });
});

describe('boot entries the original wrote', () => {
  it('are listed once each as their layers’ entries, the default among them', async () => {
    const list = await engine().bootList();
    expect(list.entries.map((e) => [e.layer, e.id, e.isDefault])).toEqual([
      [`${FIRST}+1`, `${FIRST}+1-${KVER}`, false],
      [`${SECOND}+1`, `${SECOND}+1-${KVER}`, true],
    ]);
    expect(await engine().bootDefault()).toMatchObject({ layer: `${SECOND}+1` });
  });

  it('are kept as they are by layer --add, which adds the new layer’s entry beside them as the default', async () => {
    const before = structuredClone(boot.entries);
    const result = await engine().addLayer({ from: `${SECOND}+1` });
    expect(result.boot?.added).toEqual([entryIdForLayer(`${SECOND}+2`)]);
    expect(boot.entries.slice(0, 2)).toEqual(before);
    expect(entriesByLayer()).toEqual([
      [`${FIRST}+1`, `${FIRST}+1-${KVER}`],
      [`${SECOND}+1`, `${SECOND}+1-${KVER}`],
      [`${SECOND}+2`, entryIdForLayer(`${SECOND}+2`)],
    ]);
    // The new entry boots the source's kernel, from its own directory.
    expect(boot.entries[2]).toMatchObject({ kernel: `/${SECOND}+2/vmlinuz-${KVER}`, version: KVER });
    expect(boot.defaultId).toBe(entryIdForLayer(`${SECOND}+2`));
  });

  it('are made the default by their layer’s name', async () => {
    const change = await engine().setDefaultBoot(`${FIRST}+1`);
    expect(change.entry).toBe(`${FIRST}+1-${KVER}`);
    expect(boot.defaultId).toBe(`${FIRST}+1-${KVER}`);
  });

  it('keep their id when ours rewrites them (kernel arguments), never doubling the layer’s entry', async () => {
    await engine().editKernelArgs(`${FIRST}+1`, { append: ['quiet'] });
    expect(entriesByLayer()).toEqual([
      [`${FIRST}+1`, `${FIRST}+1-${KVER}`],
      [`${SECOND}+1`, `${SECOND}+1-${KVER}`],
    ]);
    expect(boot.entries[0]!.options).toContain('quiet');
    expect(boot.entries[0]!.title).toBe(`${FIRST} (${KVER})`);
  });

  it('go with their base: base --remove takes the original first base, its layer and its entry', async () => {
    const result = await engine().removeBase(FIRST);
    expect(result.removed).toEqual([`${FIRST}+1`, FIRST]);
    expect(entriesByLayer()).toEqual([[`${SECOND}+1`, `${SECOND}+1-${KVER}`]]);
    expect(boot.defaultId).toBe(`${SECOND}+1-${KVER}`);
    expect(volumes.find('var_log_audit')).toBeDefined();
    expect(volumes.find('root')).toBeDefined();
  });
});
