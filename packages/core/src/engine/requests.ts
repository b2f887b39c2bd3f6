export interface InitLayoutRequest {
  /** NVR of the first base. */
  readonly nvr: string;
  /** The root volume to start from: `/` (what is mounted there), `VG/LV`, `/dev/VG/LV` or `@tag`. */
  readonly from?: string | undefined;
}

export interface AddBaseRequest {
  readonly nvr: string;
  readonly sizeBytes: number;
  /** An ext4 file system image to fill the base with; without one the base gets an empty file system. */
  readonly image?: string | undefined;
}

export interface AddLayerRequest {
  /** A base (its newest layer, or the base itself when it has none) or a layer; default: the newest base. */
  readonly from?: string | undefined;
}

/** What `boot --edit-kernel-args` appends and deletes. */
export interface KernelArgsEdit {
  readonly append?: readonly string[];
  readonly delete?: readonly string[];
}
