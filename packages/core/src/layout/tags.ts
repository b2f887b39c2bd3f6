/** LVM tags imgbased keeps its state in: the same tags as the original, plus `pending`. */
export const Tags = {
  /** The volume group holding the layout. */
  group: 'imgbased:vg',
  /** The thin pool bases and layers are made in. */
  pool: 'imgbased:pool',
  /** The root volume the layout was initialised from. */
  init: 'imgbased:init',
  base: 'imgbased:base',
  layer: 'imgbased:layer',
  /** The original's separate volumes (`var_log_audit`…): listed and kept, never a base or a layer. */
  volume: 'imgbased:volume',
  /**
   * Set in the same lvcreate that makes a volume and removed as an operation's last step: a volume
   * that still has it after the operation's process is gone was left half-made (the process was
   * killed), and the next mutating operation removes it.
   */
  pending: 'imgbased:pending',
  /** A base garbage collection never removes (`imgbase base --pin NVR`). */
  pinned: 'imgbased:pinned',
} as const;
