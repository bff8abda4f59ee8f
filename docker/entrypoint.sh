#!/bin/sh
# The container's entrypoint: runs bin/fluxbot (default command: run) as the image's own user,
# with the data folder /data ($FLUXBOT_DATA_DIR) and /data/fluxbot.yaml as the config when
# present and FLUXBOT_CONFIG is not set. It refuses to run as root.
# $FLUXBOT_HOME: the unpacked release archive (/opt/fluxbot in the image).
set -eu

home=${FLUXBOT_HOME:-/opt/fluxbot}
data=${FLUXBOT_DATA_DIR:-/data}

fail() {
  echo "fluxbot: $*" >&2
  exit 1
}

uid=$(id -u)
if [ "$uid" = 0 ]; then
  fail "refusing to run as root; run the image as its own user (the default: fluxbot, uid 10001), e.g. leave out --user 0 / user: root"
fi
[ -x "$home/bin/fluxbot" ] || fail "$home/bin/fluxbot is missing; FLUXBOT_HOME must be the unpacked release archive"
[ -d "$data" ] || fail "the data folder $data does not exist; mount a volume there (docker run -v fluxbot-data:$data ...)"
if [ ! -w "$data" ] || [ ! -x "$data" ]; then
  fail "the data folder $data is not writable by uid $uid; give it to that user (for a bind mount: chown -R $uid:$(id -g) HOST_FOLDER)"
fi

cd "$data"
FLUXBOT_DATA_DIR=$data
export FLUXBOT_DATA_DIR
if [ -z "${FLUXBOT_CONFIG:-}" ] && [ -f "$data/fluxbot.yaml" ]; then
  FLUXBOT_CONFIG=$data/fluxbot.yaml
  export FLUXBOT_CONFIG
fi

[ $# -gt 0 ] || set -- run
exec "$home/bin/fluxbot" "$@"
