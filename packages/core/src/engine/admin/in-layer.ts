import type { OperationContext } from '../../events.js';
import type { LayerView } from '../../layout/schema.js';
import type { AdminParts } from './parts.js';

/**
 * Runs `use` with the root of `layer`'s tree: `''` (paths are the running system's) when the host
 * runs from it, else the directory where it is mounted for the while (read-write when asked).
 */
export function inLayer<T>(
  parts: AdminParts,
  layer: LayerView,
  running: LayerView | undefined,
  readOnly: boolean,
  use: (root: string) => Promise<T>,
  context: OperationContext,
): Promise<T> {
  if (running?.name === layer.name) return use('');
  return parts.filesystem.withMounted(layer.path, { readOnly }, use, context);
}
