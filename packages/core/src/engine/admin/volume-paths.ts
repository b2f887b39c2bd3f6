import { VolumePathRefusedError } from '../../errors/index.js';

/** Trees that belong to the image (an update replaces them) or to the kernel: never a volume of their own. */
const REFUSED_TREES = ['/etc', '/usr', '/boot', '/bin', '/sbin', '/lib', '/lib64', '/proc', '/sys', '/dev', '/run'];

/**
 * Checks a separate volume's PATH (before anything is looked at or changed): absolute, written
 * plainly, not `/` nor below a tree of the image or the kernel, and made of characters its volume
 * name can carry both ways (`_` stands for `/` in the name, so a path may not hold one).
 */
export function checkVolumePath(path: string): void {
  if (!path.startsWith('/')) throw new VolumePathRefusedError(path, 'it is not absolute (write it as /var/log)');
  if (path === '/') throw new VolumePathRefusedError(path, 'the root is the layer itself');
  if (/\/\/|\/\.\.?(\/|$)|\/$/.test(path))
    throw new VolumePathRefusedError(path, 'write it plainly, without //, /./, /../ or a trailing /');
  const tree = REFUSED_TREES.find((t) => path === t || path.startsWith(`${t}/`));
  if (tree !== undefined)
    throw new VolumePathRefusedError(path, `${tree} belongs to the image or the kernel, not to a volume of its own`);
  const bad = path.split('/').find((part) => part !== '' && !/^[A-Za-z0-9.+][A-Za-z0-9.+-]*$/.test(part));
  if (bad !== undefined)
    throw new VolumePathRefusedError(
      path,
      `'${bad}': letters, digits, '.', '+' and '-' only (the volume name reads '_' as '/')`,
    );
  if (volumeName(path).length > 120) throw new VolumePathRefusedError(path, 'the volume name would be too long');
}

/** The volume's name, as the original named them: `/var/log/audit` → `var_log_audit`, `-` doubled. */
export function volumeName(path: string): string {
  return path.slice(1).replaceAll('-', '--').replaceAll('/', '_');
}

/** The systemd mount unit of a path, escaped as `systemd-escape --path --suffix=mount` does. */
export function mountUnitName(path: string): string {
  const escaped = path
    .slice(1)
    .split('/')
    .map((part) =>
      [...part]
        .map((c, i) =>
          /[A-Za-z0-9:_.]/.test(c) && !(i === 0 && c === '.')
            ? c
            : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
        )
        .join(''),
    )
    .join('-');
  return `${escaped}.mount`;
}

export const UNIT_DIR = '/etc/systemd/system';
export const WANTS_DIR = `${UNIT_DIR}/local-fs.target.wants`;

/** The mount unit of a separate volume: mounted with discard (freed blocks go back to the thin pool). */
export function mountUnitText(path: string, device: string): string {
  return [
    `# Written by imgbased (imgbase volume): the separate volume of ${path}.`,
    `# Removed by 'imgbase volume --detach ${path}' or '--remove ${path}'.`,
    '[Unit]',
    `Description=imgbased volume ${volumeName(path)} at ${path}`,
    '',
    '[Mount]',
    `What=${device}`,
    `Where=${path}`,
    'Type=ext4',
    'Options=discard',
    '',
    '[Install]',
    'WantedBy=local-fs.target',
    '',
  ].join('\n');
}
