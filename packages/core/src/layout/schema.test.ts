import { describe, expect, it } from 'vitest';
import { ImageEngine } from '../engine/engine.js';
import { FixedHost, MemoryLock, MemoryVolumeManager, RecordingFilesystem } from '../testing/index.js';
import { ChangeResultSchema, LayoutViewSchema } from './schema.js';

describe('the JSON schema', () => {
  it('describes what the engine really returns', async () => {
    const engine = new ImageEngine(
      MemoryVolumeManager.thinpHost(),
      new RecordingFilesystem(),
      new FixedHost(),
      new MemoryLock(),
    );
    const change = await engine.initLayout({ nvr: 'Base-1-0', from: 'onn/root' });
    expect(ChangeResultSchema.parse(change)).toEqual(change);
    const layout = await engine.layout();
    expect(LayoutViewSchema.parse(layout)).toEqual(layout);
    expect(() => LayoutViewSchema.parse({ ...layout, vg: 3 })).toThrow();
  });
});
