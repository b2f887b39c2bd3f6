import type { OperationContext } from '../../events.js';
import type { VolumeList } from '../../layout/admin-schema.js';
import { allLayers } from '../../layout/layout.js';
import { findByDevice, requireLayout } from '../layout-lookups.js';
import { mountIsVolume } from './host-state.js';
import type { AdminParts } from './parts.js';
import { mountUnitName, UNIT_DIR } from './volume-paths.js';

/** `imgbase volume --list`: each separate volume, where it belongs and is mounted, and whether the running layer mounts it. */
export async function listVolumes(parts: AdminParts, context: OperationContext): Promise<VolumeList> {
  const [report, root, mounts] = await Promise.all([
    parts.volumes.report(context),
    parts.host.mountedRoot(context),
    parts.mounts?.list(context),
  ]);
  const layout = requireLayout(report, context);
  const running = root.device && findByDevice(allLayers(layout), report, root.device);
  const volumes = await Promise.all(
    layout.volumes.map(async (view) => {
      const volume = report.volumes.find((v) => v.vg === layout.vg && v.name === view.name)!;
      const unit = mountUnitName(view.mountPoint);
      const attached =
        running && parts.files ? (await parts.files.readText(`${UNIT_DIR}/${unit}`, context)) !== undefined : null;
      return {
        name: view.name,
        path: view.path,
        mountPoint: view.mountPoint,
        sizeBytes: view.sizeBytes,
        dataPercent: volume.dataPercent ?? null,
        unit,
        mountedAt: (mounts ?? []).filter((m) => mountIsVolume(m, volume)).map((m) => m.target),
        attached,
      };
    }),
  );
  return { volumes };
}
