/**
 * The words of imgbased.conf(5) and of the commented /etc/imgbased.conf: one line per section and per
 * setting. The keys and their defaults come from the schemas (settings.ts); a test fails when a setting
 * has no text here, or when text is left for a setting that is gone.
 */
export const SECTION_TEXT: Readonly<Record<string, string>> = {
  core: 'imgbased itself',
  update: 'imgbase update',
  bootloader: 'boot entries: which bootloader plugin writes them',
  persistence: 'what a new base’s first layer carries over from the running layer',
  daemon: 'the daemon, imgbased(8): where API callers’ images may be read from, and its limits',
  check: 'imgbase check, status and motd: thin pool thresholds (percent), what must be a separate volume',
  trial: 'trial boots: a new layer boots on probation and becomes the default only once its checks pass',
  'bootloader.grub-bls': 'the grub plugin (Fedora/RHEL blscfg, or a menu file for Debian’s grub)',
  'bootloader.systemd-boot': 'the systemd-boot plugin',
  'persistence.tar-diff': 'the tar-diff plugin: three-way carry-over with GNU tar, recorded as a manifest',
  'persistence.rsync': 'the rsync plugin: three-way carry-over found and copied with rsync',
};

export const SETTING_TEXT: Readonly<Record<string, string>> = {
  'core.debug': 'yes: imgbase shows every step and command, as with --debug (true/false, yes/no, on/off, 1/0)',
  'core.lock_dir': 'directory of the operation lock that serialises every change, the CLI’s and the daemon’s',
  'core.plugin_dir': 'where plugins that did not ship with imgbased are loaded from, when a plugins list names them',
  'update.images_to_keep': 'bases kept after an update (the running one and pinned ones are always kept)',
  'bootloader.plugins':
    'bootloader plugins in order of preference: auto (the first whose bootloader is present), extlinux, grub-bls, systemd-boot, none',
  'bootloader.boot_dir': 'mount point of the boot partition (extlinux, grub): kernels go to BOOT_DIR/LAYER/',
  'persistence.plugins': 'persistence plugins run in this order when a new base gets its first layer (tar-diff, rsync)',
  'persistence.on_conflict':
    'a file both the admin and the new base changed: keep-admin (the new base’s version beside it as .imgnew), take-new-save-admin (the admin’s saved as .imgsave), fail',
  'daemon.image_dir': 'images named over the API are read only below this directory (after resolving symlinks)',
  'daemon.max_jobs': 'jobs running at once, dry runs included; more are refused with E_BUSY',
  'daemon.max_event_streams': 'open event streams (GET /v1/jobs/ID/events) at once; more are refused with E_BUSY',
  'daemon.connection_timeout': 'seconds a connection may stay idle before the daemon closes it',
  'daemon.request_timeout': 'seconds a client has to send a whole request (headers and body)',
  'check.pool_data_warn': 'thin pool data use (percent) from which check warns (exit code 1)',
  'check.pool_data_fail': 'thin pool data use (percent) from which check fails (exit code 2)',
  'check.pool_metadata_warn': 'thin pool metadata use (percent) from which check warns',
  'check.pool_metadata_fail': 'thin pool metadata use (percent) from which check fails',
  'check.separate_paths':
    'mount points that must be separate volumes, e.g. /var /var/log /var/log/audit /var/tmp /home /tmp (check warns)',
  'check.autoextend':
    'yes: check warns unless LVM autoextends the thin pool (thin_pool_autoextend_threshold below 100)',
  'trial.enabled':
    'yes (the default): update boots the new layer as a trial when the bootloader has trial boots (no: it becomes the default at once)',
  'trial.tries': 'boots a trial gets (1 to 9) before the bootloader falls back to the last good layer',
  'trial.on_failure': 'reboot (into the last good layer) or stay, after a required check fails',
  'trial.timeout': 'seconds each check of imgbased-boot-check.service may take',
  'trial.units': 'units that must not have failed for a trial to pass; empty: any failed unit fails it',
  'bootloader.grub-bls.mode':
    'auto (asks grub.cfg), blscfg (BLS entries: Fedora, RHEL) or menu (a menu file grub.cfg sources through /etc/grub.d/42_imgbased: Debian)',
  'bootloader.grub-bls.editenv':
    'the grub-editenv to run: auto (grub-editenv, else grub2-editenv as on Fedora/RHEL), a program name or an absolute path',
  'bootloader.systemd-boot.esp_dir':
    'the ESP (or XBOOTLDR): auto (the first of /efi, /boot/efi, /boot holding loader/) or a path',
  'bootloader.systemd-boot.boot_counting_tries':
    'tries of a new entry before it counts as bad (0 to 9; 0: no boot counting)',
  'persistence.tar-diff.paths': 'paths carried over (absolute, space- or comma-separated)',
  'persistence.tar-diff.excludes': 'paths left alone (absolute; * and ** match)',
  'persistence.tar-diff.delta_dir': 'directory inside the new layer for the manifest and the staging area',
  'persistence.rsync.paths': 'paths carried over (absolute, space- or comma-separated)',
  'persistence.rsync.excludes': 'paths left alone (absolute; * and ** match)',
};
