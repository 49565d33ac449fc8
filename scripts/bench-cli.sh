#!/usr/bin/env bash
# Times `byok encrypt` and `byok decrypt` of files on a real disk against `cp` of the same file,
# several runs each, and prints min/median/max per JDK, size, operation and launch mode
# (docs/benchmarks.md, "CLI cold start"). Every byok run is a fresh JVM, as a user runs it.
#
#   scripts/bench-cli.sh [--runs N] [--sizes "32M 300M 1500M"] [--jdks "JAVA_HOME ..."]
#                        [--modes "launcher no-archive java-jar"] [--dir DIR] [--drop-caches]
#
# Needs byok-cli/target/byok and byok.jar (mvn -B -ntp -q -DskipTests -pl byok-cli -am package).
# Each JDK gets its class-data archive first (BYOK_TRAIN=1 byok) if the build did not make it.
# Modes: launcher = byok-cli/target/byok as shipped (flags + archive); no-archive = the launcher
# with BYOK_NO_ARCHIVE=1 (flags only); java-jar = `java -jar byok.jar` (neither).
# A local KMS (`byok kms serve --in-memory`) runs on loopback for the duration; its key calls
# are a few milliseconds of each run.
#
# Files live under --dir (default byok-cli/target/bench-cli, on the same disk as the checkout;
# not tmpfs, which would hide the disk). byok forces its output to disk before renaming it into
# place; plain cp does not, so the table has both `cp` and `cp+sync` (cp, then sync of the copy).
# The page cache: with --drop-caches (root, Linux) it is dropped before every run, so each run reads
# from the disk, and it slows every other process on the machine; without, the input is read once
# before the runs (warm cache), and the table says so.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=5
SIZES="32M 300M 1500M"
JDKS="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ] && JDKS="$JDKS /usr/lib/jvm/temurin-25-jdk-amd64"
MODES="launcher java-jar"
DIR=byok-cli/target/bench-cli
DROP=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --jdks) JDKS=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --drop-caches) DROP=1; shift ;;
    *) sed -n '2,22p' "$0" >&2; exit 2 ;;
  esac
done

BYOK=byok-cli/target/byok
JAR=byok-cli/target/byok.jar
[ -x "$BYOK" ] && [ -f "$JAR" ] || { echo "build first: $BYOK and $JAR are missing" >&2; exit 1; }
mkdir -p "$DIR"
case $(df -P "$DIR" | awk 'NR==2 {print $1}') in
  tmpfs | ramfs) echo "warning: $DIR is on $(df -P "$DIR" | awk 'NR==2 {print $1}'), not a disk" >&2 ;;
esac
if [ "$DROP" = 1 ] && ! (sync && echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then
  echo "cannot drop the page cache (needs root on Linux); run without --drop-caches" >&2
  exit 1
fi

now() { date +%s%N; }
cache() {
  if [ "$DROP" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches; else cat "$1" > /dev/null; fi
}
stats() { # nanosecond samples on stdin -> "min median max" in seconds
  sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3f %.3f %.3f", v[1] / 1e9, m / 1e9, v[NR] / 1e9 }'
}

# the local KMS, on the first JDK
export JAVA_HOME="${JDKS%% *}"
KMS_LOG="$DIR/kms.log"
"$BYOK" kms serve --in-memory --port 0 > "$KMS_LOG" 2>&1 &
KMS_PID=$!
trap 'kill "$KMS_PID" 2>/dev/null || true; rm -f "$DIR"/*.out "$DIR"/*.byok "$DIR"/.*.byok-tmp' EXIT
for _ in $(seq 100); do
  grep -q '^export BYOK_KMS_ENDPOINT=' "$KMS_LOG" 2>/dev/null && break
  kill -0 "$KMS_PID" 2>/dev/null || { cat "$KMS_LOG" >&2; exit 1; }
  sleep 0.1
done
export BYOK_KMS_ENDPOINT
BYOK_KMS_ENDPOINT=$(sed -n 's/^export BYOK_KMS_ENDPOINT=//p' "$KMS_LOG")
"$BYOK" kms create-key --alias alias/bench-cli > /dev/null

run_mode() { # mode args... : one byok run in the given launch mode
  local mode=$1
  shift
  case $mode in
    launcher) "$BYOK" "$@" ;;
    no-archive) BYOK_NO_ARCHIVE=1 "$BYOK" "$@" ;;
    java-jar) "$JAVA_HOME/bin/java" -jar "$JAR" "$@" ;;
    *) echo "unknown mode $mode" >&2; return 2 ;;
  esac
}

echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) CPUs, load $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "# dir $DIR ($(df -P "$DIR" | awk 'NR==2 {print $1}')), runs $RUNS," \
  "page cache: $([ "$DROP" = 1 ] && echo "dropped before each run" || echo "warm (input read once before each run)")"
printf '%-28s %-6s %-8s %-11s %8s %8s %8s %7s %9s\n' \
  jdk size op mode min_s med_s max_s 'x_cp' 'x_cp+sync'

for size in $SIZES; do
  in="$DIR/in-$size"
  if [ ! -f "$in" ] || [ "$(stat -c %s "$in")" != "$(numfmt --from=iec "$size")" ]; then
    head -c "$(numfmt --from=iec "$size")" /dev/urandom > "$in"
  fi
  cp_s=$(for _ in $(seq "$RUNS"); do
    rm -f "$DIR/cp.out"; cache "$in"; t=$(now); cp "$in" "$DIR/cp.out"; echo $(($(now) - t))
  done | stats)
  cps_s=$(for _ in $(seq "$RUNS"); do
    rm -f "$DIR/cp.out"; cache "$in"; t=$(now); cp "$in" "$DIR/cp.out"; sync "$DIR/cp.out"
    echo $(($(now) - t))
  done | stats)
  rm -f "$DIR/cp.out"
  printf '%-28s %-6s %-8s %-11s %8s %8s %8s\n' - "$size" copy cp $cp_s
  printf '%-28s %-6s %-8s %-11s %8s %8s %8s\n' - "$size" copy cp+sync $cps_s
  cp_med=$(echo "$cp_s" | cut -d ' ' -f 2)
  cps_med=$(echo "$cps_s" | cut -d ' ' -f 2)
  for jdk in $JDKS; do
    export JAVA_HOME=$jdk
    if BYOK_LAUNCHER_DRY_RUN=1 "$BYOK" | head -n 1 | grep -q '^archive: /' \
      && [ ! -f "$(BYOK_LAUNCHER_DRY_RUN=1 "$BYOK" | sed -n '1s/^archive: //p')" ]; then
      BYOK_TRAIN=1 "$BYOK" 2> /dev/null || echo "# training for $jdk failed" >&2
    fi
    name=$(sed -n 's/^IMPLEMENTOR="\(.*\)"/\1/p; s/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$jdk/release" \
      | tr '\n' ' ' | tr -s ' ' | cut -c 1-28)
    for mode in $MODES; do
      for op in encrypt decrypt; do
        if [ "$op" = decrypt ] && [ ! -f "$DIR/blob.byok" ]; then
          run_mode launcher encrypt --key alias/bench-cli -o "$DIR/blob.byok" "$in" > /dev/null
        fi
        s=$(for _ in $(seq "$RUNS"); do
          if [ "$op" = encrypt ]; then
            rm -f "$DIR/enc.out"; cache "$in"; t=$(now)
            run_mode "$mode" encrypt --key alias/bench-cli -o "$DIR/enc.out" "$in" > /dev/null
          else
            rm -f "$DIR/dec.out"; cache "$DIR/blob.byok"; t=$(now)
            run_mode "$mode" decrypt --key alias/bench-cli -o "$DIR/dec.out" "$DIR/blob.byok" > /dev/null
          fi
          echo $(($(now) - t))
        done | stats)
        med=$(echo "$s" | cut -d ' ' -f 2)
        printf '%-28s %-6s %-8s %-11s %8s %8s %8s %7s %9s\n' "$name" "$size" "$op" "$mode" $s \
          "$(awk -v a="$med" -v b="$cp_med" 'BEGIN { printf "%.2f", a / b }')" \
          "$(awk -v a="$med" -v b="$cps_med" 'BEGIN { printf "%.2f", a / b }')"
      done
    done
    if [ "$op" = decrypt ] && [ -f "$DIR/dec.out" ]; then
      cmp -s "$in" "$DIR/dec.out" || { echo "decrypted output differs from the input" >&2; exit 1; }
    fi
    rm -f "$DIR/enc.out" "$DIR/dec.out"
  done
  rm -f "$DIR/blob.byok"
done
