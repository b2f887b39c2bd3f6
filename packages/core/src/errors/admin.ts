import { ImgbasedError } from './base.js';

/** `volume --create/--attach/…` of a path imgbased will not put on a volume of its own. */
export class VolumePathRefusedError extends ImgbasedError {
  constructor(path: string, reason: string) {
    super('E_VOLUME_PATH_REFUSED', `Refusing a separate volume for '${path}': ${reason}; nothing was changed`, {
      details: { path, reason },
    });
  }
}

export class VolumeExistsError extends ImgbasedError {
  constructor(path: string, volume: string) {
    super('E_VOLUME_EXISTS', `'${path}' has a volume already (${volume}): see 'imgbase volume --list'`, {
      details: { path, volume },
    });
  }
}

export class VolumeInUseError extends ImgbasedError {
  constructor(volume: string, mountPoint: string) {
    super(
      'E_VOLUME_IN_USE',
      `Volume ${volume} is mounted at ${mountPoint}: unmount it (or boot a layer that does not mount it) first; nothing was changed`,
      { details: { volume, mountPoint } },
    );
  }
}

/** A path with a file system of another device mounted on it. */
export class PathMountedError extends ImgbasedError {
  constructor(path: string, source: string) {
    super('E_PATH_MOUNTED', `'${path}' is mounted from ${source} already; nothing was changed`, {
      details: { path, source },
    });
  }
}

/** `layer --mount` of something that cannot be mounted so (a base or the running layer read-write, a busy DIR). */
export class MountRefusedError extends ImgbasedError {
  constructor(name: string, reason: string) {
    super('E_MOUNT_REFUSED', `Refusing to mount '${name}': ${reason}; nothing was changed`, {
      details: { name, reason },
    });
  }
}

export class NotMountedError extends ImgbasedError {
  constructor(name: string) {
    super('E_NOT_MOUNTED', `'${name}' is not mounted by 'imgbase layer --mount'; nothing was changed`, {
      details: { name },
    });
  }
}
