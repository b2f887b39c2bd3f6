// The RPM: the same staged tree, with Fedora's names for dependencies, built by rpmbuild (Debian's
// package `rpm` is enough) in a private top directory.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONFFILES } from './layout.mjs';
import { DEPENDENCIES, DESCRIPTION, MAINTAINER, NAME, repoRoot, SUMMARY } from './metadata.mjs';

/** `Mon Nov 30 2026`, as %changelog dates are written. */
function changelogDate(epochSeconds) {
  const [weekday, day, month, year] = new Date(epochSeconds * 1000).toUTCString().split(/,? /);
  return `${weekday} ${month} ${day} ${year}`;
}

/** Directories the package owns: its own ones, not the distribution's (/usr/bin, /etc, …). */
const OWNED_DIRS = ['/usr/lib/imgbased', '/usr/share/doc/imgbased'];

function fileEntry({ path: file }) {
  if (CONFFILES.includes(file)) return `%config(noreplace) ${file}`;
  return file;
}

/** Builds `out`/NAME-VERSION-1.ARCH.rpm from the staged tree; returns its path. */
export function buildRpm({ stage, installed, version, architecture, out, epochSeconds }) {
  const top = mkdtempSync(path.join(tmpdir(), 'imgbased-rpm-'));
  try {
    const { requires, recommends, suggests } = DEPENDENCIES.rpm;
    const license = path.join(top, 'LICENSE');
    copyFileSync(path.join(repoRoot, 'LICENSE'), license);
    const spec = readFileSync(path.join(repoRoot, 'packaging/files/imgbased.spec.in'), 'utf8')
      .replaceAll('@VERSION@', version)
      .replaceAll('@MAINTAINER@', MAINTAINER)
      .replaceAll('@CHANGELOG_DATE@', changelogDate(epochSeconds))
      .replaceAll(
        '@SUMMARY@',
        SUMMARY.replace(/^./, (c) => c.toUpperCase()),
      )
      .replaceAll('@ARCH@', architecture)
      .replaceAll('@STAGE@', stage)
      .replaceAll('@DESCRIPTION@', DESCRIPTION.join('\n'))
      .replaceAll('@LICENSE@', 'LICENSE')
      .replace(
        '@REQUIRES@',
        [
          ...requires.map((r) => `Requires:       ${r}`),
          ...recommends.map((r) => `Recommends:     ${r}`),
          ...suggests.map((r) => `Suggests:       ${r}`),
        ].join('\n'),
      )
      .replace('@FILES@', [...OWNED_DIRS.map((d) => `%dir ${d}`), ...installed.map(fileEntry)].join('\n'));
    const specFile = path.join(top, `${NAME}.spec`);
    writeFileSync(specFile, spec);
    mkdirSync(path.join(top, 'BUILD'), { recursive: true });
    // %license takes its file from the build directory.
    copyFileSync(license, path.join(top, 'BUILD', 'LICENSE'));
    execFileSync(
      'rpmbuild',
      [
        '-bb',
        '--define',
        `_topdir ${top}`,
        '--define',
        `_builddir ${path.join(top, 'BUILD')}`,
        '--define',
        'source_date_epoch_from_changelog 0',
        '--define',
        'use_source_date_epoch_as_buildtime 1',
        '--define',
        'clamp_mtime_to_source_date_epoch 1',
        '--define',
        '_buildhost imgbased',
        '--define',
        // Fedora's layout: /usr/share/licenses/NAME, /usr/share/doc/NAME (rpm's default appends the version).
        '_docdir_fmt %{NAME}',
        '--quiet',
        '--target',
        architecture,
        specFile,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, SOURCE_DATE_EPOCH: String(epochSeconds) } },
    );
    const rpmDir = path.join(top, 'RPMS', architecture);
    const [built] = readdirSync(rpmDir);
    mkdirSync(out, { recursive: true });
    const target = path.join(out, built);
    copyFileSync(path.join(rpmDir, built), target);
    return { path: target };
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}
