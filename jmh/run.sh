#!/usr/bin/env bash
# Runs the full benchmark suite on JDK 17 and JDK 25 and writes jmh/results/<jdk>.{json,txt,mibs.txt}.
# Run it on a quiet machine: the numbers mean nothing while anything else is using the CPU.
#
#   jmh/run.sh                         # everything, both JDKs
#   JDKS=jdk25 jmh/run.sh encrypt      # one JDK; extra arguments go to JMH (a regex, -p name=value, ...)
#
# Warm-up is long on purpose: a 64 MiB blob takes seconds in the interpreter, and the JDK's
# AES-GCM intrinsics only engage once the crypto methods are C2-compiled (allow >= 30 s for 1 MiB
# segments). Override with WI, W, I, R (warm-up iterations/seconds, measurement iterations/seconds),
# the output folder with OUT, the JDKs with JAVA17 / JAVA25.
set -euo pipefail

cd "$(dirname "$0")/.."
JAVA_jdk17=${JAVA17:-java}
JAVA_jdk25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
JDKS=${JDKS:-"jdk17 jdk25"}
WI=${WI:-3} W=${W:-10} I=${I:-3} R=${R:-5}
JAR=jmh/target/benchmarks.jar
OUT=${OUT:-jmh/results}

mvn -B -q -Dstyle.color=never -pl jmh -am package -DskipTests
mkdir -p "$OUT"

# benchmark x parameter combinations, from the jar itself
runs=$(java -jar "$JAR" -lp "$@" | awk '
  /^[a-z]/ { total += combos; combos = 1 }
  /param "/ { combos *= gsub(/,/, ",") + 1 }
  END { print total + combos }')
per_run=$((WI * W + I * R + 12)) # + JVM start, 64 MiB setup round trip, overrun of slow first operations
jdk_count=$(wc -w <<<"$JDKS")
total=$((runs * per_run * jdk_count))
echo "== $runs runs x ${per_run}s x $jdk_count JDK(s): about $((total / 60)) min $((total % 60)) s (estimate)"

for jdk in $JDKS; do
  var=JAVA_$jdk
  java_bin=${!var:?unknown JDK label $jdk (use jdk17 or jdk25)}
  echo "== $jdk: $("$java_bin" -version 2>&1 | head -1)"
  "$java_bin" -jar "$JAR" -wi "$WI" -w "${W}s" -i "$I" -r "${R}s" -f 1 -prof gc \
    -rf json -rff "$OUT/$jdk.json" "$@" 2>&1 | tee "$OUT/$jdk.txt"

  # ops/s x payload = MiB/s; allocation per operation (one whole blob) from -prof gc
  if command -v jq >/dev/null; then
    {
      printf 'benchmark\tcompetitor\tsegment\tMiB/s\terror(99.9%%)\tB/op\n'
      jq -r '.[] | (.params.payloadMiB | tonumber) as $mib | [
          (.benchmark | split(".") | last), .params.competitor, .params.segmentSize,
          (.primaryMetric.score * $mib | round),
          (.primaryMetric.scoreError | if type == "number" then . * $mib | round else "-" end),
          ((.secondaryMetrics["gc.alloc.rate.norm"].score // 0) | round)] | @tsv' "$OUT/$jdk.json"
    } | column -t -s $'\t' | tee "$OUT/$jdk.mibs.txt"
  else
    echo "(jq not found: no MiB/s table; multiply ops/s by payloadMiB)"
  fi
done
