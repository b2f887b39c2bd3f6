#compdef imgbase
# Generated from imgbased’s sources (apps/cli/src/docs): do not edit; run packaging/generate-docs.

_imgbase_layers() {
  local -a names
  names=(${(f)"$(imgbase layout --layers 2>/dev/null)"})
  _describe -t layers 'layer' names
}
_imgbase_bases() {
  local -a names
  names=(${(f)"$(imgbase layout --bases 2>/dev/null)"})
  _describe -t bases 'base' names
}
_imgbase_volumes() {
  local -a names
  names=(${(f)"$(imgbase layout --bases 2>/dev/null)"} ${(f)"$(imgbase layout --layers 2>/dev/null)"})
  _describe -t volumes 'base or layer' names
}

_imgbase() {
  local curcontext=$curcontext state line
  local -a commands
  commands=(
    'layout:list bases and layers, or create the layout'
    'base:add, remove or find bases'
    'layer:add, find, mount or compare layers'
    'boot:boot entries\: list them, the default, or choose the layer to boot (or try it\: a trial)'
    'update:install an image as a new base, carry the admin’s state over, boot it next'
    'rollback:boot the previous base’s newest layer by default (or --to LAYER)'
    'status:the host at a glance\: running layer, boots, layers, pool, warnings'
    'check:judge the bootloader, mount points, thin storage and leftovers (exit code 0\: ok; 1\: degraded (warnings); 2\: failed (a check failed))'
    'motd:one status line for /etc/motd.d/ (OK, or DEGRADED/FAILED with the reason)'
    'volume:separate volumes for /var, /var/log, /home… (thin volumes mounted by a unit in the layer)'
    'recover:show (--list, the default) or repair (--yes) what interrupted operations and meddling left'
    'w:which layer is running'
  )
  _arguments -C \
    '--debug[show every step and command]' \
    '--json[answer with JSON (schema version 1)]' \
    '(- *)--version[output the version number]' \
    '(- *)--help[show the help]' \
    '1:command:->command' \
    '*::argument:->argument'
  case $state in
    command) _describe -t commands 'imgbase command' commands ;;
    argument)
      case $words[1] in
        layout)
          _arguments -s \
            '--init[create the layout\: tag the volume group and thin pool, make the first base and layer]' \
            '--from=[with --init\: the root volume\: /, VG/LV, /dev/VG/LV or @TAG]:SRC: ' \
            '--init-nvr=[with --init\: the first base]:NVR: ' \
            '--bases[list the bases, one per line]' \
            '--layers[list the layers, one per line]' \
            '--free-space[free space in the thin pool]' \
            '--adopt[bring a layout the original imgbased made to imgbased’s conventions (undone on failure)]' \
            '--units=[with --free-space]:UNIT:(b k m g t p)' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
            '1::NVR: ' \
          ;;
        base)
          _arguments -s \
            '--add=[add a read-only base]:NVR: ' \
            '--size=[with --add\: size of the thin volume, e.g. 1G (MiB without a unit)]:SIZE: ' \
            '--remove=[remove a base and all its layers]:BASE:_imgbase_bases' \
            '--pin=[keep a base from garbage collection]:BASE:_imgbase_bases' \
            '--unpin=[let garbage collection remove a pinned base again]:BASE:_imgbase_bases' \
            '--latest[the newest base]' \
            '--of-layer=[the base of a layer]:LAYER:_imgbase_layers' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
            '1::IMAGE:_files' \
          ;;
        layer)
          _arguments -s \
            '--add[add a writable layer (it boots by default)]' \
            '--trial[with --add\: the new layer boots next as a trial, the default stays until it proves itself]' \
            '--latest[the newest layer]' \
            '--current[the layer mounted at /]' \
            '--volume-path=[the device path of a base or layer]:BASE|LAYER:_imgbase_volumes' \
            '--mount=[mount a layer or base for a look inside (read-only; DIR as argument, default /run/imgbased/layers/NAME)]:BASE|LAYER:_imgbase_volumes' \
            '--rw[with --mount\: read-write (never a base or the running layer)]' \
            '--umount=[unmount what --mount mounted]:BASE|LAYER:_imgbase_volumes' \
            '--diff=[what differs from the base or layer given as argument (default\: its base)]:BASE|LAYER:_imgbase_volumes' \
            '--content[with --diff\: unified diffs of changed text files]' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
            '1::BASE|LAYER:_imgbase_volumes' \
          ;;
        boot)
          _arguments -s \
            '--list[the boot entries, the default (*) and the one-shot (>)]' \
            '--get-default[the layer booted by default]' \
            '--set-default=[boot LAYER by default]:LAYER:_imgbase_layers' \
            '--next=[boot LAYER at the next boot only, then the default again]:LAYER:_imgbase_layers' \
            '--kernel-args=[the kernel arguments of LAYER’s entry]:LAYER:_imgbase_layers' \
            '--edit-kernel-args=[change the kernel arguments of LAYER’s entry (with --append, --delete)]:LAYER:_imgbase_layers' \
            '*--append=[with --edit-kernel-args\: add ARG (key=value replaces the key’s value)]:ARG: ' \
            '*--delete=[with --edit-kernel-args\: take out ARG (a bare key takes every value)]:ARG: ' \
            '--trial=[boot LAYER as a trial\: it becomes the default only once its checks pass (with --set-default LAYER\: the same)]:LAYER:_imgbase_layers' \
            '--trial-status[the running trial and each layer’s boot state (trial, good, failed)]' \
            '--mark-good=[mark the running trial good\: it becomes the default]:LAYER:_imgbase_layers' \
            '--mark-bad=[mark the running trial bad\: the last good layer stays the default]:LAYER:_imgbase_layers' \
            '--reason=[with --mark-bad\: why (recorded with the verdict)]:TEXT: ' \
            '--check-trial[check this boot’s trial and mark it (run by imgbased-boot-check.service)]' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
          ;;
        update)
          _arguments -s \
            '--nvr=[the new base’s NVR (default\: from the image’s os-release, else its file name)]:NVR: ' \
            '--format=[the image’s format]:FORMAT:(auto ext4 squashfs tar)' \
            '--sha256=[the image’s SHA-256 (default\: IMAGE.sha256 beside it, when there is one)]:HEX: ' \
            '--from=[the layer whose state is carried over (default\: the running layer)]:LAYER:_imgbase_layers' \
            '--keep=[bases kept after the update (default\: \[update\] images_to_keep)]:N: ' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
            '1:IMAGE:_files' \
          ;;
        rollback)
          _arguments -s \
            '--to=[the layer to boot by default]:LAYER:_imgbase_layers' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
          ;;
        status)
          _arguments -s \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
          ;;
        check)
          _arguments -s \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
          ;;
        motd)
          _arguments -s \
            '--update[write it to /etc/motd.d/50-imgbased (the imgbased-motd timer does, every 15 minutes)]' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
          ;;
        volume)
          _arguments -s \
            '--list[the separate volumes, where they are mounted, whether the running layer mounts them]' \
            '--create=[a volume for PATH\: the data there moved in, a mount unit (discard) in the layer]:PATH:_files' \
            '--remove=[remove the volume of PATH and its mount unit (refused while it is mounted)]:PATH:_files' \
            '--attach=[write the mount unit of PATH’s volume into the layer again]:PATH:_files' \
            '--detach=[take the mount unit of PATH’s volume out of the layer (the volume is kept)]:PATH:_files' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
            '1::SIZE: ' \
          ;;
        recover)
          _arguments -s \
            '--list[show what would be repaired; changes nothing]' \
            '--yes[repair it\: pending volumes, stray entries and files, leftover mounts, missing entries]' \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
            '--dry-run[print the commands that would change the system, change nothing]' \
          ;;
        w)
          _arguments -s \
            '--json[answer with JSON (schema version 1)]' \
            '--debug[show every step and command]' \
          ;;
      esac
      ;;
  esac
}

_imgbase "$@"
