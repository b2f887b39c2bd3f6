import { ImgbasedError } from './base.js';

/** The daemon's caller may not use it at all: neither root nor a member of the socket's group. */
export class ForbiddenError extends ImgbasedError {
  constructor(uid: number, group: string) {
    super('E_FORBIDDEN', `uid ${uid} may not use imgbased's API: only root and members of the group '${group}' may`, {
      details: { uid, group },
    });
  }
}

/** A limit of the daemon is reached (running jobs, open event streams); nothing was started. */
export class BusyError extends ImgbasedError {
  constructor(what: 'jobs' | 'event-streams', limit: number) {
    const noun = what === 'jobs' ? 'jobs are running' : 'event streams are open';
    super('E_BUSY', `${limit} ${noun} already (the daemon's limit): try again when one has ended`, {
      details: { what, limit },
    });
  }
}

/** The daemon has begun to stop: it takes no new job. */
export class ShuttingDownError extends ImgbasedError {
  constructor() {
    super('E_SHUTTING_DOWN', 'The imgbased daemon is stopping and takes no new job: try again once it is back');
  }
}

/** An image named over the API that is not below the daemon's image directory (symlinks resolved). */
export class ImageOutsideDirError extends ImgbasedError {
  constructor(image: string, imageDir: string) {
    super(
      'E_IMAGE_OUTSIDE_DIR',
      `Image '${image}' is not in ${imageDir}: the daemon reads images only from there ([daemon] image_dir)`,
      { details: { image, imageDir } },
    );
  }
}
