#!/usr/bin/env bash
# Runs the full benchmark suite on JDK 17 and JDK 25 and writes jmh/results/<jdk>.{json,txt,mibs.txt}
# (streaming), jmh/results/<jdk>.parallel.{json,txt,table.txt} (one blob on k threads) and
# jmh/results/<jdk>.small.{json,txt,table.txt} (small blobs, cache hits).
# Run it on a quiet machine: the numbers mean nothing while anything else is using the CPU.
#
#   jmh/run.sh                          # everything, both JDKs
#   JDKS=jdk25 jmh/run.sh encrypt       # one JDK; a first argument without '-' filters benchmarks
#   SUITES=small jmh/run.sh -p competitor=byok  # one suite; other arguments go to JMH
#
# Three suites, each one JMH invocation per JDK with its own warm-up:
#   streaming  StreamingThroughputBenchmark. Warm-up is long on purpose: a 64 MiB blob takes
#              seconds in the interpreter, and the JDK's AES-GCM intrinsics only engage once the
#              crypto methods are C2-compiled (10-12 s for 1 MiB segments on a loaded 2-core
#              machine; run-throughput.sh explains its shorter timing). Override with
#              WI, W, I, R (warm-up iterations/seconds, measurement iterations/seconds).
#   parallel   ParallelThroughputBenchmark: one blob, k = 1 and 2 segments in flight, to and from a
#              FileChannel; same timing as streaming. Its table has the speed-up k / k=1.
#   small      SmallBlobBenchmark (1 and 2 threads) and CacheHitBenchmark. Operations take
#              microseconds and warm up fast. Override with SWI, SW, SI, SR.
# The output folder is OUT, the JDKs JAVA17 / JAVA25.
set -euo pipefail

cd "$(dirname "$0")/.."
JAVA_jdk17=${JAVA17:-java}
JAVA_jdk25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
JDKS=${JDKS:-"jdk17 jdk25"}
SUITES=${SUITES:-"streaming parallel small"}
WI=${WI:-4} W=${W:-10} I=${I:-5} R=${R:-5}
SWI=${SWI:-2} SW=${SW:-5} SI=${SI:-3} SR=${SR:-3}
JAR=jmh/target/benchmarks.jar
OUT=${OUT:-jmh/results}

FILTER=
if [[ $# -gt 0 && $1 != -* ]]; then
  FILTER=$1
  shift
fi

# shellcheck disable=SC2086 # MVN_ARGS (e.g. -Dmaven.repo.local=...) is meant to split
mvn -B -q -Dstyle.color=never ${MVN_ARGS:-} -pl jmh -am package -DskipTests
mkdir -p "$OUT"

# suite -> JMH regex (the filter, if any, must match as well), timing, per-run overhead in seconds
suite_regex() {
  local base
  case $1 in
    streaming) base='StreamingThroughputBenchmark' ;;
    parallel) base='ParallelThroughputBenchmark' ;;
    small) base='SmallBlobBenchmark|CacheHitBenchmark' ;;
    *) echo "unknown suite $1 (use streaming, parallel or small)" >&2; exit 2 ;;
  esac
  if [[ -n $FILTER ]]; then
    echo "(?=.*($base))(?=.*($FILTER))"
  else
    echo "$base"
  fi
}
suite_timing() {
  case $1 in
    streaming | parallel) echo "-wi $WI -w ${W}s -i $I -r ${R}s" ;;
    small) echo "-wi $SWI -w ${SW}s -i $SI -r ${SR}s" ;;
  esac
}
suite_seconds() { # per run: warm-up + measurement + JVM start, setup, overrun of slow first operations
  case $1 in
    streaming | parallel) echo $((WI * W + I * R + ${RUN_OVERHEAD:-6})) ;;
    small) echo $((SWI * SW + SI * SR + 3)) ;;
  esac
}

# benchmark x parameter combinations, from the jar itself
count_runs() {
  java -jar "$JAR" -lp "$1" "${@:2}" | awk '
    /^[a-z]/ { total += combos; combos = 1 }
    /param "/ { combos *= gsub(/,/, ",") + 1 }
    END { print total + combos }'
}

jdk_count=$(wc -w <<<"$JDKS")
total=0
for suite in $SUITES; do
  runs=$(count_runs "$(suite_regex "$suite")" "$@")
  secs=$((runs * $(suite_seconds "$suite") * jdk_count))
  echo "== $suite: $runs runs x $(suite_seconds "$suite")s x $jdk_count JDK(s)"
  total=$((total + secs))
done
echo "== about $((total / 60)) min $((total % 60)) s (estimate)"

streaming_table() {
  # ops/s x payload = MiB/s; error as % of score (want < 10); allocation per blob (-prof gc
  # gc.alloc.rate.norm); for each byok row its % of the JCA floor (%floor: jca, segment-sized output
  # array, the floor of the stream rows; %floor_dram: jca-dram, blob-sized output array, issue 13's
  # floor and the one for the byok-nio rows) and its ratio to Tink, each from the row of the same
  # method (direction), segment size, payload and thread count.
  printf 'benchmark\tcompetitor\tsegment\tthreads\tMiB/s\terror(99.9%%)\terror%%\tB/op\t%%floor\t%%floor_dram\tx_tink\n'
  jq -r '. as $all
    | def peer($r; $name): [$all[] | select(.benchmark == $r.benchmark
          and .params.segmentSize == $r.params.segmentSize and .params.payloadMiB == $r.params.payloadMiB
          and .threads == $r.threads and .params.competitor == $name)] | first;
      def ratio($r; $name): peer($r; $name) as $p
        | if ($r.params.competitor | startswith("byok")) and $p != null
          then $r.primaryMetric.score / $p.primaryMetric.score else null end;
    .[] | (.params.payloadMiB | tonumber) as $mib | .primaryMetric as $m | [
      (.benchmark | split(".") | last), .params.competitor, .params.segmentSize, .threads,
      ($m.score * $mib | round),
      ($m.scoreError | if type == "number" then . * $mib | round else "-" end),
      ($m.scoreError | if type == "number" then (. / $m.score * 1000 | round / 10) else "-" end),
      ((.secondaryMetrics["gc.alloc.rate.norm"].score // 0) | round),
      (ratio(.; "jca") | if . == null then "-" else (. * 1000 | round / 10 | tostring) + "%" end),
      (ratio(.; "jca-dram") | if . == null then "-" else (. * 1000 | round / 10 | tostring) + "%" end),
      (ratio(.; "tink") | if . == null then "-" else (. * 100 | round / 100 | tostring) + "x" end)
    ] | @tsv' "$1"
}
parallel_table() { # MiB/s per k, error %, allocation per blob, speed-up against k=1 (same method, segment)
  printf 'benchmark\tsegment\tk\tMiB/s\terror(99.9%%)\terror%%\tB/op\tspeed-up\n'
  jq -r '. as $all
    | def one($r): [$all[] | select(.benchmark == $r.benchmark and .params.parallelism == "1"
          and .params.segmentSize == $r.params.segmentSize and .params.payloadMiB == $r.params.payloadMiB)] | first;
    .[] | (.params.payloadMiB | tonumber) as $mib | .primaryMetric as $m | one(.) as $o | [
      (.benchmark | split(".") | last), .params.segmentSize, .params.parallelism,
      ($m.score * $mib | round),
      ($m.scoreError | if type == "number" then . * $mib | round else "-" end),
      ($m.scoreError | if type == "number" then (. / $m.score * 1000 | round / 10) else "-" end),
      ((.secondaryMetrics["gc.alloc.rate.norm"].score // 0) | round),
      (if $o == null then "-" else ($m.score / $o.primaryMetric.score * 100 | round / 100 | tostring) + "x" end)
    ] | @tsv' "$1"
}
small_table() { # score in its own unit (ops/s for small blobs, us/op for cache hits), allocation per op
  printf 'benchmark\tcompetitor\tpayload\tthreads\tscore\terror(99.9%%)\tunit\tB/op\n'
  jq -r '.[] | [
      (.benchmark | split(".") | .[-2:] | join(".")), (.params.competitor // "-"),
      (.params.payloadBytes // "-"), .threads,
      (.primaryMetric.score | if . >= 100 then round else . * 100 | round / 100 end),
      (.primaryMetric.scoreError | if type == "number" then (if . >= 100 then round else . * 100 | round / 100 end) else "-" end),
      .primaryMetric.scoreUnit,
      ((.secondaryMetrics["gc.alloc.rate.norm"].score // 0) | round)] | @tsv' "$1"
}

for jdk in $JDKS; do
  var=JAVA_$jdk
  java_bin=${!var:?unknown JDK label $jdk (use jdk17 or jdk25)}
  echo "== $jdk: $("$java_bin" -version 2>&1 | head -1)"
  for suite in $SUITES; do
    if [[ $suite == streaming ]]; then
      base="$OUT/$jdk" table="$OUT/$jdk.mibs.txt"
    else
      base="$OUT/$jdk.$suite" table="$OUT/$jdk.$suite.table.txt"
    fi
    # shellcheck disable=SC2046 # the timing options are meant to split
    "$java_bin" -jar "$JAR" "$(suite_regex "$suite")" $(suite_timing "$suite") -f 1 -prof gc \
      -rf json -rff "$base.json" "$@" 2>&1 | tee "$base.txt"
    if command -v jq >/dev/null; then
      "${suite}_table" "$base.json" | column -t -s $'\t' | tee "$table"
    else
      echo "(jq not found: no summary table)"
    fi
  done
done
