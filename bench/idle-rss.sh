#!/usr/bin/env bash
# The idle memory (RSS) of `fluxbot run` with each chat platform, against the loopback fakes of
# testkit (FakePlatformsMain): the figures of docs/benchmarks.md, "Idle memory".
#
# Usage: bench/idle-rss.sh [IDLE_SECONDS] [JVM_OPTION...]
#   IDLE_SECONDS  how long each bot idles before it is measured (default 60); RSS is read from
#                 /proc every 5 s over the last 20 s and the median is printed
#   JVM_OPTION    passed to java before -jar, e.g. -XX:+UseSerialGC -Xmx128m
# Builds app and testkit first (offline when FLUXBOT_OFFLINE=1).
set -euo pipefail
root=$(cd -P "$(dirname "$0")/.." && pwd -P)
idle=${1:-60}
shift || true
jvm_opts=("$@")
java="$("$root/bin/jdk21" --print)/bin/java"
offline=()
[ "${FLUXBOT_OFFLINE:-0}" = 1 ] && offline=(-o)

cd "$root"
"$root/bin/jdk21" mvn -B -ntp -q "${offline[@]}" -DskipTests -Dspotless.check.skip=true \
  -Dcheckstyle.skip=true -pl app,testkit -am package >&2
cpfile=$(mktemp)
"$root/bin/jdk21" mvn -B -ntp -q "${offline[@]}" -pl testkit dependency:build-classpath \
  -Dmdep.outputFile="$cpfile" >&2
cp="$root/testkit/target/classes:$(cat "$cpfile")"
rm -f "$cpfile"

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
"$java" -cp "$cp" dev.fluxbot.testkit.FakePlatformsMain >"$work/fakes.env" 2>"$work/fakes.log" &
for _ in $(seq 1 60); do
  [ "$(wc -l <"$work/fakes.env")" -ge 4 ] && break
  sleep 1
done
vars() { grep "^$1 " "$work/fakes.env" | cut -d' ' -f2-; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

measure() { # name, then the platforms' variable lines
  local name=$1
  shift
  local dir="$work/$name"
  mkdir -p "$dir"
  # shellcheck disable=SC2046
  (cd "$dir" && exec env $(vars bfl) "$@" "$java" "${jvm_opts[@]}" -jar "$root/app/target/fluxbot.jar" run) \
    >"$dir/out.log" 2>&1 &
  local pid=$!
  sleep $((idle - 20))
  local samples=()
  for _ in 1 2 3 4 5; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "fluxbot run ($name) exited early; its log:" >&2
      cat "$dir/out.log" >&2
      return 1
    fi
    samples+=("$(rss_kib "$pid")")
    sleep 5
  done
  local median
  median=$(printf '%s\n' "${samples[@]}" | sort -n | sed -n 3p)
  printf '%-22s %8s MiB   (samples KiB: %s)\n' "$name" \
    "$(awk -v k="$median" 'BEGIN { printf "%.1f", k / 1024 }')" "${samples[*]}"
  kill -TERM "$pid"
  wait "$pid" || true
}

echo "fluxbot run, idle ${idle} s, JVM options: ${jvm_opts[*]:-(none)}; $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
# shellcheck disable=SC2046
measure discord $(vars discord)
# shellcheck disable=SC2046
measure telegram $(vars telegram)
# shellcheck disable=SC2046
measure slack $(vars slack)
# shellcheck disable=SC2046
measure all-three $(vars discord) $(vars telegram) $(vars slack)
