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
  /** Boot the new layer next as a trial (docs/trial-boots.md) instead of making it the default. */
  readonly trial?: boolean | undefined;
}

/** What `boot --edit-kernel-args` appends and deletes. */
export interface KernelArgsEdit {
  readonly append?: readonly string[];
  readonly delete?: readonly string[];
}

/** `imgbase update`: install IMAGE as a new base, carry the admin's state over, boot it next. */
export interface UpdateRequest {
  /** A local file or an http(s):// URL. */
  readonly image: string;
  readonly nvr?: string | undefined;
  readonly format?: 'auto' | 'ext4' | 'squashfs' | 'tar' | undefined;
  /** Hex SHA-256 the image must have (else an `IMAGE.sha256` beside it, when there is one). */
  readonly sha256?: string | undefined;
  /** The layer whose state is carried over (default: the running layer, else the newest). */
  readonly from?: string | undefined;
  /** Bases to keep after the update (default `[update] images_to_keep`). */
  readonly keep?: number | undefined;
  /** Where a URL is downloaded to (default /var/tmp/imgbased). */
  readonly downloadDirectory?: string | undefined;
}

/** `imgbase rollback`: the default entry becomes LAYER, or the newest layer of the base before the default one. */
export interface RollbackRequest {
  readonly to?: string | undefined;
}
