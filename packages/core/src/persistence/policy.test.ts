import { describe, expect, it } from 'vitest';
import { normalizeTreePath, persistedRoots } from './policy.js';

describe('normalizeTreePath', () => {
  it('normalises absolute paths', () => {
    expect(normalizeTreePath('/etc/')).toBe('/etc');
    expect(normalizeTreePath('/etc/./ssh//')).toBe('/etc/ssh');
    expect(normalizeTreePath('/')).toBe('/');
  });

  it.each(['etc', './etc', '', '/etc/../root', '/..'])('refuses %j', (path) => {
    expect(() => normalizeTreePath(path)).toThrow();
  });

  it('keeps only the outermost policy roots', () => {
    expect(persistedRoots({ paths: ['/etc/ssh', '/etc', '/root/'], excludes: [], onConflict: 'keep-admin' })).toEqual([
      '/etc',
      '/root',
    ]);
  });
});
