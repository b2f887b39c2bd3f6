import { describe, expect, it } from 'vitest';
import { NameInvalidError, SizeInvalidError } from '../errors/index.js';
import {
  compareLayerNames,
  compareNvr,
  formatLayerName,
  formatSizeIn,
  nextLayerIndex,
  parseLayerName,
  parseNvr,
  parseSize,
  validateVolumeName,
} from './nvr.js';

describe('parseNvr', () => {
  it('splits name, version and release at the last two dashes', () => {
    expect(parseNvr('ovirt-node-ng-4.5.0-0.20220307.0')).toEqual({
      name: 'ovirt-node-ng',
      version: '4.5.0',
      release: '0.20220307.0',
    });
    expect(parseNvr('Base-1-0')).toEqual({ name: 'Base', version: '1', release: '0' });
  });

  it.each([
    ['', 'empty'],
    ['Base-1', 'name-version-release'],
    ['Base', 'name-version-release'],
    ['-1-0', 'may not start'],
    ['Base-1-0+1', "'+' is kept for layers"],
    ['Base 1-0', 'only letters'],
    ['Base/1-0', 'only letters'],
    ['Base-1-0;rm', 'only letters'],
    ['x_tdata-1-0', 'reserved by LVM'],
    ['snapshot-1-0', 'reserved by LVM'],
    [`${'a'.repeat(52)}-1-0`, 'at most 55'],
  ])('rejects %j (%s)', (text, reason) => {
    expect(() => parseNvr(text)).toThrow(NameInvalidError);
    expect(() => parseNvr(text)).toThrow(reason);
  });

  it('accepts the longest allowed name', () => {
    expect(() => parseNvr(`${'a'.repeat(51)}-1-0`)).not.toThrow();
  });
});

describe('layer names', () => {
  it('round-trips NVR+N', () => {
    const layer = parseLayerName('Node-4.5-0.20220307.0+12');
    expect(layer).toEqual({ base: { name: 'Node', version: '4.5', release: '0.20220307.0' }, index: 12 });
    expect(formatLayerName(layer)).toBe('Node-4.5-0.20220307.0+12');
  });

  it.each(['Base-1-0', 'Base-1-0+', 'Base-1-0+0', 'Base-1-0+01', 'Base-1-0+x', 'Base-1+1'])('rejects %j', (text) => {
    expect(() => parseLayerName(text)).toThrow(NameInvalidError);
  });

  it('orders by base, then index numerically', () => {
    const names = ['Base-1-0+10', 'Base-2-0+1', 'Base-1-0+2', 'Base-1-0+1'].map(parseLayerName);
    expect(names.sort(compareLayerNames).map(formatLayerName)).toEqual([
      'Base-1-0+1',
      'Base-1-0+2',
      'Base-1-0+10',
      'Base-2-0+1',
    ]);
  });

  it('gives the next index past the highest, never reusing a gap', () => {
    expect(nextLayerIndex([])).toBe(1);
    expect(nextLayerIndex([1, 2])).toBe(3);
    expect(nextLayerIndex([3, 1])).toBe(4);
  });
});

describe('compareNvr', () => {
  it('orders bases by rpm version rules, not as strings', () => {
    const bases = ['Node-4.10-0', 'Node-4.9-1', 'Node-4.9-0', 'Node-4.10-0.20220101', 'Node-4.9.1-0'].map(parseNvr);
    expect(bases.sort(compareNvr).map((b) => `${b.version}-${b.release}`)).toEqual([
      '4.9-0',
      '4.9-1',
      '4.9.1-0',
      '4.10-0',
      '4.10-0.20220101',
    ]);
  });

  it('breaks ties by name so that the order is total', () => {
    expect(compareNvr(parseNvr('A-1-0'), parseNvr('B-1-0'))).toBeLessThan(0);
    expect(compareNvr(parseNvr('B-1-0'), parseNvr('A-1-0'))).toBeGreaterThan(0);
  });
});

describe('validateVolumeName', () => {
  it('rejects names longer than LVM allows', () => {
    expect(() => validateVolumeName('a'.repeat(128))).toThrow('longer than 127');
  });
});

describe('sizes', () => {
  it.each([
    ['1G', 1024 ** 3],
    ['1g', 1024 ** 3],
    ['1GiB', 1024 ** 3],
    ['512M', 512 * 1024 ** 2],
    ['512', 512 * 1024 ** 2],
    ['1.5G', 1.5 * 1024 ** 3],
    ['4096b', 4096],
    ['8s', 4096],
  ])('parses %s', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'G', '-1G', '0', '1X', '1 G B', '1e3'])('rejects %j', (text) => {
    expect(() => parseSize(text)).toThrow(SizeInvalidError);
  });

  it('formats in a chosen unit', () => {
    expect(formatSizeIn(3 * 1024 ** 2, 'm')).toBe('3');
    expect(formatSizeIn(1536, 'k')).toBe('1.50');
    expect(() => formatSizeIn(1, 'x')).toThrow(SizeInvalidError);
  });
});
