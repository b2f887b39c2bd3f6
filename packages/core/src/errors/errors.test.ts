import { describe, expect, it } from 'vitest';
import {
  BaseNotFoundError,
  CommandFailedError,
  ErrorCodes,
  errorFromJSON,
  ImgbasedError,
  LockedError,
  NameInvalidError,
  toImgbasedError,
} from './index.js';

describe('typed errors', () => {
  it('carry a stable code, a name and details', () => {
    const error = new BaseNotFoundError('Base-9-0');
    expect(error).toBeInstanceOf(ImgbasedError);
    expect(error).toMatchObject({ code: 'E_BASE_NOT_FOUND', name: 'BaseNotFoundError', details: { name: 'Base-9-0' } });
    expect(error.isUserError).toBe(true);
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('survive a trip through JSON with their code, details and cause chain', () => {
    const lvm = new CommandFailedError(
      ['lvm', 'lvcreate', 'x'],
      5,
      'WARNING: x\n  Volume group "vg" has insufficient free space\n',
    );
    const outer = new ImgbasedError('E_INTERNAL', 'could not make the layer', { cause: lvm });
    const copy = errorFromJSON(JSON.parse(JSON.stringify(outer)));
    expect(copy).toBeInstanceOf(ImgbasedError);
    expect(copy.toJSON()).toEqual(outer.toJSON());
    expect((copy.cause as ImgbasedError).code).toBe('E_COMMAND_FAILED');
    expect((copy.cause as ImgbasedError).details).toMatchObject({ argv: ['lvm', 'lvcreate', 'x'], exitCode: 5 });
  });

  it('say in one line what failed, with the last line of stderr', () => {
    const error = new CommandFailedError(
      ['tune2fs', '-U', 'random', '/dev/vg/lv'],
      1,
      'tune2fs 1.47\nBad magic number\n',
    );
    expect(error.message).toBe("'tune2fs -U random /dev/vg/lv' failed with exit code 1: Bad magic number");
    expect(error.isUserError).toBe(false);
  });

  it('keep foreign causes as name and message', () => {
    const json = new LockedError('/run/imgbased/lock', 'pid 7').toJSON();
    expect(json).toEqual({
      name: 'LockedError',
      code: 'E_LOCKED',
      message: 'Another imgbased operation is running (pid 7); try again when it has finished',
      details: { lockPath: '/run/imgbased/lock', holder: 'pid 7' },
    });
    const wrapped = toImgbasedError(new TypeError('x is undefined'));
    expect(wrapped.code).toBe('E_INTERNAL');
    expect(wrapped.toJSON().cause).toEqual({ name: 'TypeError', message: 'x is undefined' });
  });

  it('have unique codes', () => {
    expect(new Set(ErrorCodes).size).toBe(ErrorCodes.length);
    expect(new NameInvalidError('a b', 'spaces').code).toBe('E_NAME_INVALID');
  });
});
