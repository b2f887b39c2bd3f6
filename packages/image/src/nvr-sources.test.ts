import { describe, expect, it } from 'vitest';
import { nvrFromFileName, nvrFromOsRelease, parseOsRelease } from './nvr-sources.js';

describe('parseOsRelease', () => {
  it('reads unquoted, single- and double-quoted values, escapes, and skips comments and noise', () => {
    const fields = parseOsRelease(
      [
        '# a comment',
        'NAME="oVirt Node"',
        "ID='ovirt-node'",
        'VERSION_ID=4.7',
        'PRETTY_NAME="say \\"hi\\" for \\$5 \\\\ ok"',
        'not an assignment',
        '  IMAGE_NVR=Node-4.7-0.1  ',
        'EMPTY=',
      ].join('\n'),
    );
    expect(Object.fromEntries(fields)).toEqual({
      NAME: 'oVirt Node',
      ID: 'ovirt-node',
      VERSION_ID: '4.7',
      PRETTY_NAME: 'say "hi" for $5 \\ ok',
      IMAGE_NVR: 'Node-4.7-0.1',
      EMPTY: '',
    });
  });
});

describe('nvrFromOsRelease', () => {
  const fields = (o: Record<string, string>) => new Map(Object.entries(o));

  it('takes IMAGE_NVR first, as written, for the caller to validate', () => {
    expect(nvrFromOsRelease(fields({ IMAGE_NVR: 'Node-4.7-0.1', IMAGE_ID: 'x', IMAGE_VERSION: '1-2' }))).toEqual({
      nvr: 'Node-4.7-0.1',
      field: 'IMAGE_NVR',
    });
    expect(nvrFromOsRelease(fields({ IMAGE_NVR: 'not an nvr' }))).toEqual({ nvr: 'not an nvr', field: 'IMAGE_NVR' });
  });

  it('else IMAGE_ID-IMAGE_VERSION when that reads as name-version-release', () => {
    expect(nvrFromOsRelease(fields({ IMAGE_ID: 'node', IMAGE_VERSION: '4.7-0.1' }))).toEqual({
      nvr: 'node-4.7-0.1',
      field: 'IMAGE_ID and IMAGE_VERSION',
    });
    expect(nvrFromOsRelease(fields({ IMAGE_ID: 'fedora', IMAGE_VERSION: '40.20240101' }))).toBeUndefined();
  });

  it('ignores NAME and VERSION_ID, which name a distribution, not an image', () => {
    expect(nvrFromOsRelease(fields({ NAME: 'Fedora', VERSION_ID: '40', VERSION: '40-1' }))).toBeUndefined();
    expect(nvrFromOsRelease(fields({ IMAGE_NVR: '  ' }))).toBeUndefined();
  });
});

describe('nvrFromFileName', () => {
  it('takes image extensions off, then needs name-version-release', () => {
    expect(nvrFromFileName('Node-4.7-0.1.squashfs')).toBe('Node-4.7-0.1');
    expect(nvrFromFileName('Node-4.7-0.1.squashfs.img')).toBe('Node-4.7-0.1');
    expect(nvrFromFileName('ovirt-node-ng-4.5.0-0.20220307.0.el8.tar.zst')).toBe(
      'ovirt-node-ng-4.5.0-0.20220307.0.el8',
    );
    expect(nvrFromFileName('Base-2-0.TAR.GZ')).toBe('Base-2-0');
    expect(nvrFromFileName('Base-2-0')).toBe('Base-2-0');
  });

  it('gives nothing for names that are no NVR', () => {
    expect(nvrFromFileName('ovirt-node-ng-image.squashfs.img')).toBeUndefined();
    expect(nvrFromFileName('rootfs.img')).toBeUndefined();
    expect(nvrFromFileName('image.tar.gz')).toBeUndefined();
    expect(nvrFromFileName('Node+1-4.7-0.1.img')).toBeUndefined();
    expect(nvrFromFileName('.img')).toBeUndefined();
  });
});
