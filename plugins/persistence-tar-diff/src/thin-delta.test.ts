import { describe, expect, it } from 'vitest';
import { dmName, parseThinDelta } from './thin-delta.js';

// What thin_delta -m printed in the test VM for a base and its snapshot after a few changes.
const XML = `<superblock uuid="" time="1" transaction="2" data_block_size="128" nr_data_blocks="0">
  <diff left="1" right="2">
    <different begin="0" length="1"/>
    <same begin="1" length="3"/>
    <different begin="4" length="1"/>
    <different begin="5" length="2"/>
    <right_only begin="2112" length="1"/>
    <left_only begin="132" length="1"/>
    <same begin="4097" length="255"/>
  </diff>
</superblock>`;

describe('parseThinDelta', () => {
  it('gives the differing chunks in bytes, sorted and merged, same ranges left out', () => {
    const chunk = 128 * 512;
    expect(parseThinDelta(XML)).toEqual({
      ok: true,
      chunkBytes: chunk,
      ranges: [
        [0, chunk],
        [4 * chunk, 7 * chunk],
        [132 * chunk, 133 * chunk],
        [2112 * chunk, 2113 * chunk],
      ],
    });
  });

  it('says so when the output is not thin_delta’s', () => {
    expect(parseThinDelta('nothing')).toMatchObject({ ok: false });
  });
});

describe('dmName', () => {
  it('doubles dashes inside names, as device-mapper names LVs', () => {
    expect(dmName('onn', 'pool00')).toBe('onn-pool00');
    expect(dmName('my-vg', 'pool-00_tmeta')).toBe('my--vg-pool--00_tmeta');
  });
});
