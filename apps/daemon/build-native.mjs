// Builds the daemon's one native piece, src/native/peercred.c (SO_PEERCRED and SO_PEERGROUPS through
// Node-API), into dist/peercred.node with the C compiler and the Node-API headers installed beside
// node: no node-gyp, nothing downloaded. Node-API is ABI-stable, so the file works with every Node
// >= 20 on the machine. Skipped when the file is newer than its source.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PEERCRED_SOURCE = join(here, 'src/native/peercred.c');
export const PEERCRED_ADDON = join(here, 'dist/peercred.node');

/** Where node_api.h is: $npm_config_nodedir, else the include/node beside the running node. */
function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include/node'),
    join(dirname(process.execPath), '../include/node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
  if (!found) throw new Error(`node_api.h not found in ${candidates.join(', ')}: install Node.js with its headers`);
  return found;
}

export function buildPeercred({ force = false } = {}) {
  if (!force && existsSync(PEERCRED_ADDON) && statSync(PEERCRED_ADDON).mtimeMs >= statSync(PEERCRED_SOURCE).mtimeMs) {
    return PEERCRED_ADDON;
  }
  mkdirSync(dirname(PEERCRED_ADDON), { recursive: true });
  const cc = process.env.CC || 'cc';
  execFileSync(
    cc,
    [
      '-O2',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-fPIC',
      '-shared',
      `-I${nodeHeaders()}`,
      '-o',
      PEERCRED_ADDON,
      PEERCRED_SOURCE,
    ],
    { stdio: 'inherit' },
  );
  return PEERCRED_ADDON;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildPeercred({ force: true });
