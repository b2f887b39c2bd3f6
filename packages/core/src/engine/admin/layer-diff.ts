import type { TreeReader } from '../../contracts/host-admin.js';
import { BaseNotFoundError, LayerNotFoundError, UsageError } from '../../errors/index.js';
import type { OperationContext } from '../../events.js';
import type { LayerDiff } from '../../layout/admin-schema.js';
import { allLayers } from '../../layout/layout.js';
import type { BaseView, LayerView } from '../../layout/schema.js';
import { validateVolumeName } from '../../naming/nvr.js';
import { findByDevice, requireLayout } from '../layout-lookups.js';
import { type AdminParts, required } from './parts.js';
import { addContentChange, compareTrees } from './tree-compare.js';

export interface DiffRequest {
  readonly name: string;
  /** Default: the base of `name`. */
  readonly with?: string | undefined;
  readonly content?: boolean | undefined;
}

/**
 * `imgbase layer --diff A [B] [--content]`: what differs between two layers (or a layer and its
 * base): paths added and removed in B, and what changed of the rest. Both are mounted read-only for
 * the while (an inactive base activated, then deactivated again); the running layer is read at `/`.
 * Takes no lock and changes nothing that outlives the call.
 */
export async function diffLayers(
  parts: AdminParts,
  request: DiffRequest,
  context: OperationContext,
): Promise<LayerDiff> {
  validateVolumeName(request.name);
  if (request.with !== undefined) validateVolumeName(request.with);
  const trees = required(parts.trees, 'TreeReader');
  const report = await parts.volumes.report(context);
  const layout = requireLayout(report, context);
  const find = (name: string): BaseView | LayerView => {
    const found = layout.bases.find((b) => b.name === name) ?? allLayers(layout).find((l) => l.name === name);
    if (!found) throw name.includes('+') ? new LayerNotFoundError(name) : new BaseNotFoundError(name);
    return found;
  };
  const a = find(request.name);
  const otherName = request.with ?? ('base' in a ? a.base : undefined);
  if (otherName === undefined)
    throw new UsageError(`layer --diff ${request.name}: name a second base or layer to compare with`);
  const b = find(otherName);
  const root = await parts.host.mountedRoot(context);
  const running = (root.device && findByDevice(allLayers(layout), report, root.device)) || undefined;
  const open = <T>(view: BaseView | LayerView, use: (dir: string) => Promise<T>): Promise<T> => {
    if (running?.name === view.name) return use('/');
    const volume = report.volumes.find((v) => v.vg === layout.vg && v.name === view.name)!;
    const mounted = () => parts.filesystem.withMounted(volume.path, { readOnly: true }, use, context);
    if (volume.active) return mounted();
    // A base is inactive (activation skip): active for the look only.
    return (async () => {
      await parts.volumes.change(volume, { active: true }, context);
      try {
        return await mounted();
      } finally {
        await parts.volumes.change(volume, { active: false }, { ...context, signal: undefined });
      }
    })();
  };
  return open(a, (dirA) =>
    open(b, (dirB) => compareDirs(trees, a.name, dirA, b.name, dirB, Boolean(request.content), context)),
  );
}

async function compareDirs(
  trees: TreeReader,
  nameA: string,
  dirA: string,
  nameB: string,
  dirB: string,
  content: boolean,
  context: OperationContext,
): Promise<LayerDiff> {
  const [listA, listB] = await Promise.all([trees.list(dirA, context), trees.list(dirB, context)]);
  const compared = compareTrees(listA, listB);
  const at = (dir: string, path: string) => `${dir === '/' ? '' : dir}${path}`;
  for (const path of compared.toCompare) {
    if (!(await trees.sameContent(at(dirA, path), at(dirB, path), context))) addContentChange(compared.changed, path);
  }
  const changed = [];
  for (const change of compared.changed) {
    const diff =
      content && change.changes.includes('content')
        ? await trees.textDiff(
            at(dirA, change.path),
            at(dirB, change.path),
            { a: `${nameA}${change.path}`, b: `${nameB}${change.path}` },
            context,
          )
        : undefined;
    changed.push(diff === undefined ? change : { ...change, diff });
  }
  return { a: nameA, b: nameB, added: compared.added, removed: compared.removed, changed };
}
