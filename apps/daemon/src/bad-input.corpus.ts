/**
 * Bad API requests, as data (issue 14's "Bad input, counted"): each is refused with a typed error
 * and the HTTP status `httpStatusOf` gives its code, at once or as the job's outcome, changing nothing.
 * The host is adminHost(): layers Base-1-0+1 and Base-1-0+2 of base Base-1-0, one entry each.
 */
export interface BadApiCase {
  readonly method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  readonly url: string;
  readonly body?: string;
  readonly contentType?: string;
  /** The error code, answered at once or as the failed job's outcome. */
  readonly code: string;
  /** The status when it is the protocol's, not the code's: no such route (404), wrong media type (415). */
  readonly status?: number;
}

const NAME_PARAM_ROUTES = ['/v1/layers/{}/base', '/v1/volumes/{}/path', '/v1/layers/{}/kernel-args'];
const GARBAGE_NAMES = ['x;rm -rf /', '..', '$(reboot)', 'Base 1 0', '-rf', 'Base-1-0+1%0A', 'B%C3%A4se-1-0', '%00'];

const job = (body: unknown, code: string): BadApiCase => ({
  method: 'POST',
  url: '/v1/jobs',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  contentType: 'application/json',
  code,
});
const usage = (body: unknown) => job(body, 'E_USAGE');

export const BAD_API_CASES: readonly BadApiCase[] = [
  ...NAME_PARAM_ROUTES.flatMap((route) =>
    GARBAGE_NAMES.map((name) => ({
      method: 'GET' as const,
      url: route.replace('{}', name.replaceAll(' ', '%20').replaceAll(';', '%3B')),
      // A slash or `..` makes it another path, which no route serves.
      ...(name.includes('/') || name === '..' ? { code: 'E_USAGE', status: 404 } : { code: 'E_NAME_INVALID' }),
    })),
  ),
  { method: 'GET', url: '/v1/layers/Base-1-0+9/base', code: 'E_LAYER_NOT_FOUND' },
  { method: 'GET', url: '/v1/layers/Base-1-0+9/kernel-args', code: 'E_LAYER_NOT_FOUND' },
  { method: 'GET', url: '/v1/volumes/Base-9-0/path', code: 'E_BASE_NOT_FOUND' },
  // Job bodies of the wrong shape.
  usage('{"verb":"layer --add"'),
  usage('"layer --add"'),
  usage('42'),
  usage('true'),
  usage('{}'),
  usage({ verb: '' }),
  usage({ verb: 'LAYER --ADD' }),
  usage({ verb: 'layer  --add' }),
  usage({ verb: ['layer --add'] }),
  usage({ verb: 'layer --add', args: [] }),
  usage({ verb: 'layer --add', args: 'Base-1-0' }),
  usage({ verb: 'layer --add', args: { from: 7 } }),
  usage({ verb: 'layer --add', dryRun: 1 }),
  usage({ verb: 'base --add', args: { nvr: 'Base-2-0' } }),
  usage({ verb: 'base --add', args: { size: '1G' } }),
  usage({ verb: 'base --add', args: { nvr: 'Base-2-0', size: 1 } }),
  usage({ verb: 'base --remove', args: {} }),
  usage({ verb: 'base --remove', args: { name: null } }),
  usage({ verb: 'update', args: {} }),
  usage({ verb: 'update', args: { image: 'x.img', keep: 'two' } }),
  usage({ verb: 'update', args: { image: 'x.img', format: 'zip' } }),
  usage({ verb: 'boot --edit-kernel-args', args: { layer: 'Base-1-0+1', append: 'quiet' } }),
  usage({ verb: 'rollback', args: { to: ['Base-1-0+1'] } }),
  usage({ verb: 'layer --add', args: { from: 'Base-1-0' }, jobId: 'mine' }),
  {
    method: 'POST',
    url: '/v1/jobs',
    body: '{"verb":"layer --add"}',
    contentType: 'application/xml',
    code: 'E_USAGE',
    status: 415,
  },
  { method: 'POST', url: '/v1/jobs', body: '\u0000\u0001\u0002', contentType: 'application/json', code: 'E_USAGE' },
  { method: 'PATCH', url: '/v1/jobs', body: '{}', contentType: 'application/json', code: 'E_USAGE', status: 404 },
  { method: 'DELETE', url: '/v1/layout', code: 'E_USAGE', status: 404 },
  { method: 'GET', url: '/v1/jobs/..%2F..%2Fetc', code: 'E_USAGE' },
  { method: 'GET', url: '/v1/jobs/0123456789abcdef/events', code: 'E_USAGE', status: 404 },
  // Well-formed jobs with bad values: the job fails with the typed error.
  job({ verb: 'base --add', args: { nvr: 'x;rm -rf /', size: '1G' } }, 'E_NAME_INVALID'),
  job({ verb: 'base --add', args: { nvr: 'Base-2-0', size: '1X' } }, 'E_SIZE_INVALID'),
  job({ verb: 'base --add', args: { nvr: 'Base-2-0', size: '-1G' } }, 'E_SIZE_INVALID'),
  job({ verb: 'base --add', args: { nvr: 'Base-1-0', size: '1G' } }, 'E_BASE_EXISTS'),
  job({ verb: 'base --remove', args: { name: 'Base-9-0' } }, 'E_BASE_NOT_FOUND'),
  job({ verb: 'layer --add', args: { from: 'Base-9-0' } }, 'E_BASE_NOT_FOUND'),
  job({ verb: 'boot --set-default', args: { layer: 'Base-1-0+9' } }, 'E_LAYER_NOT_FOUND'),
  job({ verb: 'boot --next', args: { layer: '../../etc' } }, 'E_NAME_INVALID'),
  job({ verb: 'boot --edit-kernel-args', args: { layer: 'Base-1-0+1', append: ['a b'] } }, 'E_KERNEL_ARG_INVALID'),
  job(
    { verb: 'boot --edit-kernel-args', args: { layer: 'Base-1-0+1', append: ['root=/dev/sda'] } },
    'E_KERNEL_ARG_INVALID',
  ),
  job({ verb: 'boot --edit-kernel-args', args: { layer: 'Base-1-0+1', delete: ['x\\y'] } }, 'E_KERNEL_ARG_INVALID'),
  job({ verb: 'rollback', args: { to: 'Base-1-0+9' } }, 'E_LAYER_NOT_FOUND'),
];
