/**
 * @packageDocumentation
 * imgbased's VolumeManager over LVM thin: lvm2 commands run through the CommandRunner, and one `lvm lvs`
 * JSON report parsed into a StorageReport.
 */

export {
  LvmThinVolumeManager,
  lvchangeActivationArgv,
  lvchangePropertiesArgv,
  lvcreateArgv,
  lvextendMetadataArgv,
  lvremoveArgv,
  vgchangeTagsArgv,
} from './lvm-thin-volume-manager.js';
export { LVS_ARGV, LVS_FIELDS, type LvsField, type LvsRow, parseLvsReport, parseLvsRows } from './lvs-report.js';
