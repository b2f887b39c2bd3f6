// The Debian package: the staged tree plus DEBIAN/ (control, conffiles, md5sums, maintainer scripts)
// and the files Debian's policy asks for (copyright, changelog), built with dpkg-deb.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CONFFILES, nativeObjects } from './layout.mjs';
import { DEPENDENCIES, DESCRIPTION, MAINTAINER, NAME, repoRoot, SUMMARY } from './metadata.mjs';

const DOC_DIR = `/usr/share/doc/${NAME}`;

/** The machine-readable copyright file (DEP-5), pointing at Debian's copy of the GPL. */
function copyright() {
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    `Upstream-Name: ${NAME}`,
    '',
    'Files: *',
    'Copyright: 2026 the imgbased authors',
    'License: GPL-2+',
    '',
    'License: GPL-2+',
    ' This program is free software; you can redistribute it and/or modify it under the terms of the GNU',
    ' General Public License as published by the Free Software Foundation; either version 2 of the License,',
    ' or (at your option) any later version.',
    ' .',
    ' This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY; without even',
    ' the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE. See the GNU General Public',
    ' License for more details.',
    ' .',
    ' On Debian systems, the complete text of the GNU General Public License version 2 can be found in',
    ' /usr/share/common-licenses/GPL-2.',
    '',
  ].join('\n');
}

/** A native package's changelog: one entry for this version, dated by the last commit (reproducible). */
function changelog(version, epochSeconds) {
  const date = new Date(epochSeconds * 1000).toUTCString().replace(/GMT$/, '+0000');
  return [
    `${NAME} (${version}) unstable; urgency=medium`,
    '',
    `  * imgbased ${version}: the changes are in each package's CHANGELOG.md (changesets).`,
    '',
    ` -- ${MAINTAINER}  ${date}`,
    '',
  ].join('\n');
}

/** Files below `stage`'s usr/, etc/ and lib/, with their md5sums, as dpkg records them. */
function md5sums(stage, installed) {
  return installed
    .map(
      ({ path: file }) =>
        `${createHash('md5')
          .update(readFileSync(path.join(stage, file)))
          .digest('hex')}  ${file.slice(1)}`,
    )
    .join('\n');
}

function installedSizeKiB(stage, installed) {
  return Math.ceil(installed.reduce((sum, { path: file }) => sum + statSync(path.join(stage, file)).size, 0) / 1024);
}

/** `libc6 (>= 2.32)`: what dpkg-shlibdeps (dpkg-dev) finds the native objects need, for Depends. */
function sharedLibraryDepends(stage, installed) {
  const objects = nativeObjects(installed).map((file) => path.join(stage, file));
  if (objects.length === 0) return [];
  // dpkg-shlibdeps reads debian/control of a source tree: give it a minimal one.
  const source = mkdtempSync(path.join(tmpdir(), 'imgbased-shlibs-'));
  try {
    mkdirSync(path.join(source, 'debian'));
    writeFileSync(path.join(source, 'debian/control'), `Source: ${NAME}\n\nPackage: ${NAME}\nArchitecture: any\n`);
    const output = execFileSync('dpkg-shlibdeps', ['-O', ...objects.map((o) => `-e${o}`)], {
      cwd: source,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const found = /^shlibs:Depends=(.*)$/m.exec(output)?.[1];
    return found ? found.split(/,\s*/) : [];
  } finally {
    rmSync(source, { recursive: true, force: true });
  }
}

/** Builds `out`/NAME_VERSION_ARCH.deb from the staged tree; returns its path and the installed file list. */
export function buildDeb({ stage, installed, version, architecture, out, epochSeconds }) {
  const all = [...installed];
  const put = (destination, content, mode = 0o644) => {
    const target = path.join(stage, destination);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
    chmodSync(target, mode);
    all.push({ path: destination, mode });
  };
  put(`${DOC_DIR}/copyright`, copyright());
  put(`${DOC_DIR}/changelog.gz`, gzipSync(changelog(version, epochSeconds), { level: 9 }));

  const { depends, recommends, suggests } = DEPENDENCIES.deb;
  const control = [
    `Package: ${NAME}`,
    `Version: ${version}`,
    `Architecture: ${architecture}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${installedSizeKiB(stage, all)}`,
    `Depends: ${[...sharedLibraryDepends(stage, all), ...depends].join(', ')}`,
    `Recommends: ${recommends.join(', ')}`,
    `Suggests: ${suggests.join(', ')}`,
    'Section: admin',
    'Priority: optional',
    `Description: ${SUMMARY}`,
    ...DESCRIPTION.map((line) => ` ${line}`),
    '',
  ].join('\n');
  const debian = path.join(stage, 'DEBIAN');
  mkdirSync(debian, { recursive: true });
  writeFileSync(path.join(debian, 'control'), control);
  writeFileSync(path.join(debian, 'conffiles'), `${CONFFILES.join('\n')}\n`);
  writeFileSync(
    path.join(debian, 'md5sums'),
    `${md5sums(
      stage,
      all.filter((f) => !CONFFILES.includes(f.path)),
    )}\n`,
  );
  for (const script of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(path.join(repoRoot, 'packaging/files/debian', script), path.join(debian, script));
    chmodSync(path.join(debian, script), 0o755);
  }
  mkdirSync(out, { recursive: true });
  const deb = path.join(out, `${NAME}_${version}_${architecture}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', stage, deb], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, SOURCE_DATE_EPOCH: String(epochSeconds) },
  });
  return { path: deb, installed: all };
}
