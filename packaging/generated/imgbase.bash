# bash completion for imgbase(8)
# Generated from imgbased’s sources (apps/cli/src/docs): do not edit; run packaging/generate-docs.

# Names from the real layout: layers, bases or both (volumes).
_imgbase_names() {
  case $1 in
    layers | bases) imgbase layout "--$1" 2>/dev/null ;;
    volumes) imgbase layout --bases 2>/dev/null; imgbase layout --layers 2>/dev/null ;;
  esac
}

# $1: what the value is completed from (layers, bases, volumes, files, choices:A B C or none).
_imgbase_values() {
  local IFS=$'\n' words
  case $1 in
    layers | bases | volumes) words=$(_imgbase_names "$1") ;;
    choices:*) words=${1#choices:} && words=${words// /$'\n'} ;;
    files) COMPREPLY=($(compgen -f -- "$cur")) && compopt -o filenames 2>/dev/null; return ;;
    *) COMPREPLY=() && return ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

_imgbase() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} command= words i
  # The command is the first word that is not an option (global options take no value).
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} != -* ]]; then
      command=${COMP_WORDS[i]}
      break
    fi
  done
  case $command:$prev in
    layout:--from) _imgbase_values 'none'; return ;;
    layout:--init-nvr) _imgbase_values 'none'; return ;;
    layout:--units) _imgbase_values 'choices:b k m g t p'; return ;;
    base:--add) _imgbase_values 'none'; return ;;
    base:--size) _imgbase_values 'none'; return ;;
    base:--remove) _imgbase_values 'bases'; return ;;
    base:--pin) _imgbase_values 'bases'; return ;;
    base:--unpin) _imgbase_values 'bases'; return ;;
    base:--of-layer) _imgbase_values 'layers'; return ;;
    layer:--volume-path) _imgbase_values 'volumes'; return ;;
    layer:--mount) _imgbase_values 'volumes'; return ;;
    layer:--umount) _imgbase_values 'volumes'; return ;;
    layer:--diff) _imgbase_values 'volumes'; return ;;
    boot:--set-default) _imgbase_values 'layers'; return ;;
    boot:--next) _imgbase_values 'layers'; return ;;
    boot:--kernel-args) _imgbase_values 'layers'; return ;;
    boot:--edit-kernel-args) _imgbase_values 'layers'; return ;;
    boot:--append) _imgbase_values 'none'; return ;;
    boot:--delete) _imgbase_values 'none'; return ;;
    boot:--trial) _imgbase_values 'layers'; return ;;
    boot:--mark-good) _imgbase_values 'layers'; return ;;
    boot:--mark-bad) _imgbase_values 'layers'; return ;;
    boot:--reason) _imgbase_values 'none'; return ;;
    update:--nvr) _imgbase_values 'none'; return ;;
    update:--format) _imgbase_values 'choices:auto ext4 squashfs tar'; return ;;
    update:--sha256) _imgbase_values 'none'; return ;;
    update:--from) _imgbase_values 'layers'; return ;;
    update:--keep) _imgbase_values 'none'; return ;;
    rollback:--to) _imgbase_values 'layers'; return ;;
    volume:--create) _imgbase_values 'files'; return ;;
    volume:--remove) _imgbase_values 'files'; return ;;
    volume:--attach) _imgbase_values 'files'; return ;;
    volume:--detach) _imgbase_values 'files'; return ;;
  esac
  if [[ -z $command ]]; then
    words='layout base layer boot update rollback status check motd volume recover w'
    [[ $cur == -* ]] && words='--debug --json --version -h --help'
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    case $command in
      layout) words='--init --from --init-nvr --bases --layers --free-space --adopt --units --json --debug --dry-run' ;;
      base) words='--add --size --remove --pin --unpin --latest --of-layer --json --debug --dry-run' ;;
      layer) words='--add --trial --latest --current --volume-path --mount --rw --umount --diff --content --json --debug --dry-run' ;;
      boot) words='--list --get-default --set-default --next --kernel-args --edit-kernel-args --append --delete --trial --trial-status --mark-good --mark-bad --reason --check-trial --json --debug --dry-run' ;;
      update) words='--nvr --format --sha256 --from --keep --json --debug --dry-run' ;;
      rollback) words='--to --json --debug --dry-run' ;;
      status) words='--json --debug' ;;
      check) words='--json --debug' ;;
      motd) words='--update --json --debug --dry-run' ;;
      volume) words='--list --create --remove --attach --detach --json --debug --dry-run' ;;
      recover) words='--list --yes --json --debug --dry-run' ;;
      w) words='--json --debug' ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    return
  fi
  case $command in
    base) _imgbase_values 'files' ;;
    layer) _imgbase_values 'volumes' ;;
    update) _imgbase_values 'files' ;;
  esac
}
complete -F _imgbase imgbase
