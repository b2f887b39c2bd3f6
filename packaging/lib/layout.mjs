// The installed layout, the same for the .deb and the RPM except where the distributions differ
// (DISTRO_PATHS): built once into a staging tree that both package formats take as they are.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from './metadata.mjs';

export const LIB_DIR = '/usr/lib/imgbased';

/** Where the distributions put the same file differently; the file-list test maps these onto each other. */
export const DISTRO_PATHS = {
  deb: {
    // bookworm's systemd and debhelper still use /lib (usr-merge moves it later).
    units: '/lib/systemd/system',
    zsh: '/usr/share/zsh/vendor-completions',
  },
  rpm: { units: '/usr/lib/systemd/system', zsh: '/usr/share/zsh/site-functions' },
};

/**
 * A launcher in /usr/bin: CommonJS (no package.json beside it), loading the bundle's entry: the CLI's
 * CommonJS one (no ES module loader started for a listing), the daemon's ES module.
 */
function launcher(what, dir) {
  const load = dir === 'cli' ? `require('${LIB_DIR}/${dir}/entry.cjs');` : `import('${LIB_DIR}/${dir}/entry.js');`;
  return [
    '#!/usr/bin/node',
    `// ${what}, installed: the bundle and its code cache are in ${LIB_DIR}/${dir}/ (no node_modules needed).`,
    load,
    '',
  ].join('\n');
}

/** The files of a built app's dist/ that run: the bundle's modules, its code cache, native addons (no source maps). */
function bundleFiles(app) {
  const dist = path.join(repoRoot, 'apps', app, 'dist');
  if (!existsSync(path.join(dist, 'entry.js'))) throw new Error(`${dist}/entry.js is missing: run pnpm build first`);
  return readdirSync(dist).filter((name) => /\.(js|cjs|cache|node)$/.test(name));
}

/**
 * Fills `stage` with the installed tree for `flavor` (`deb` or `rpm`) and returns the installed paths
 * (files and symlinks) with their modes. `docs` is the directory generate-docs wrote.
 */
export function stageTree(stage, flavor, docs) {
  const where = DISTRO_PATHS[flavor];
  const installed = [];
  const put = (destination, content, mode = 0o644) => {
    const target = path.join(stage, destination);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
    chmodSync(target, mode);
    installed.push({ path: destination, mode });
  };
  const copy = (source, destination, mode = 0o644) => {
    const target = path.join(stage, destination);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(source, target);
    chmodSync(target, mode);
    installed.push({ path: destination, mode });
  };
  const fromRepo = (relative) => path.join(repoRoot, relative);
  const manPage = (name, section) =>
    put(
      `/usr/share/man/man${section}/${name}.${section}.gz`,
      gzipSync(readFileSync(path.join(docs, `${name}.${section}`)), { level: 9 }),
    );

  put('/usr/bin/imgbase', launcher('imgbase', 'cli'), 0o755);
  put('/usr/bin/imgbased', launcher('imgbased', 'daemon'), 0o755);
  for (const app of ['cli', 'daemon']) {
    // The bundles' entries and chunks are ES modules; main.cjs is CommonJS by its extension.
    put(`${LIB_DIR}/${app}/package.json`, '{ "type": "module" }\n');
    for (const name of bundleFiles(app)) {
      const native = name.endsWith('.node');
      copy(fromRepo(`apps/${app}/dist/${name}`), `${LIB_DIR}/${app}/${name}`, native ? 0o755 : 0o644);
      // Shared objects ship stripped (Debian policy 10.2; RPM's debuginfo split is off for this tree).
      if (native)
        execFileSync('strip', ['--strip-unneeded', '--remove-section=.comment', path.join(stage, LIB_DIR, app, name)]);
    }
  }
  copy(fromRepo('apps/daemon/systemd/imgbased.service'), `${where.units}/imgbased.service`);
  copy(fromRepo('apps/daemon/systemd/imgbased.socket'), `${where.units}/imgbased.socket`);
  copy(fromRepo('apps/cli/systemd/imgbased-motd.service'), `${where.units}/imgbased-motd.service`);
  copy(fromRepo('apps/cli/systemd/imgbased-motd.timer'), `${where.units}/imgbased-motd.timer`);
  copy(fromRepo('apps/cli/systemd/imgbased-boot-check.service'), `${where.units}/imgbased-boot-check.service`);
  copy(fromRepo('apps/daemon/systemd/imgbased.sysusers.conf'), '/usr/lib/sysusers.d/imgbased.conf');
  copy(fromRepo('packaging/files/imgbased.tmpfiles.conf'), '/usr/lib/tmpfiles.d/imgbased.conf');
  copy(path.join(docs, 'imgbased.conf'), '/etc/imgbased.conf');
  copy(fromRepo('plugins/bootloader-grub-bls/grub.d/42_imgbased'), '/etc/grub.d/42_imgbased', 0o755);
  manPage('imgbase', 8);
  manPage('imgbased', 8);
  manPage('imgbased.conf', 5);
  copy(path.join(docs, 'imgbase.bash'), '/usr/share/bash-completion/completions/imgbase');
  copy(path.join(docs, '_imgbase.zsh'), `${where.zsh}/_imgbase`);
  copy(path.join(docs, 'imgbase.fish'), '/usr/share/fish/vendor_completions.d/imgbase.fish');
  copy(fromRepo('docs/openapi/imgbased-v1.openapi.json'), '/usr/share/doc/imgbased/openapi/imgbased-v1.openapi.json');
  copy(fromRepo('docs/schema/imgbased-v1.schema.json'), '/usr/share/doc/imgbased/schema/imgbased-v1.schema.json');
  copy(fromRepo('docs/hosts.md'), '/usr/share/doc/imgbased/hosts.md');
  return installed;
}

/** The conffiles: the admin's to edit, kept over upgrades. */
export const CONFFILES = ['/etc/imgbased.conf', '/etc/grub.d/42_imgbased'];

/** The installed native objects (the daemon's addon), for the shared-library dependencies. */
export function nativeObjects(installed) {
  return installed.filter((file) => file.path.endsWith('.node')).map((file) => file.path);
}
