import type { VolumeManager } from '../contracts/volume-manager.js';
import { BaseNotFoundError } from '../errors/index.js';
import type { OperationContext } from '../events.js';
import { Tags } from '../layout/tags.js';
import type { PinChange } from '../layout/update-schema.js';
import { parseNvr } from '../naming/nvr.js';
import { type ChangePath, step } from './change-path.js';
import { requireLayout } from './layout-lookups.js';

/** `base --pin` / `--unpin`: a base garbage collection never removes is tagged `imgbased:pinned`. */
export class Pins {
  constructor(
    private readonly path: ChangePath,
    private readonly volumes: VolumeManager,
  ) {}

  async setPinned(name: string, pinned: boolean, context: OperationContext): Promise<PinChange> {
    parseNvr(name);
    const purpose = pinned ? 'base --pin' : 'base --unpin';
    const { value } = await this.path.run(purpose, context, async (tx, report) => {
      const layout = requireLayout(report);
      const base = layout.bases.find((b) => b.name === name);
      if (!base) throw new BaseNotFoundError(name);
      const change = { dryRun: Boolean(context.dryRun), base: name, pinned };
      if (base.pinned === pinned) return { ...change, changed: false };
      const ref = { vg: layout.vg, name };
      step(tx, 'tag', `${pinned ? 'Pinning' : 'Unpinning'} base ${name}`);
      const tags = [Tags.pinned];
      await this.volumes.change(ref, pinned ? { addTags: tags } : { removeTags: tags }, tx.context);
      tx.onUndo(`${pinned ? 'unpin' : 'pin'} ${name} again`, (c) =>
        this.volumes.change(ref, pinned ? { removeTags: tags } : { addTags: tags }, c),
      );
      return { ...change, changed: true };
    });
    return value;
  }
}
