#!/usr/bin/env bash
# The throughput set of issue 13, per JDK, as JSON: StreamingThroughputBenchmark (byok push, pull,
# stream and channel; the JCA floor; Tink at the same segment size; the AWS Encryption SDK; the
# two-thread rows) at 64 KiB and 1 MiB segments, 64 MiB blobs held in memory, 64 KiB application
# writes and reads, >= 5 measurement iterations after 40 s of warm-up, with -prof gc.
#
#   jmh/run-throughput.sh                 # JDK 17 and 25: jmh/results/jdk17.json, jdk25.json
#   JDKS=jdk25 jmh/run-throughput.sh      # one JDK (JAVA17 / JAVA25 choose the binaries)
#   jmh/run-throughput.sh encrypt -p segmentSize=1048576   # a filter, then JMH options
#
# Run it on a quiet machine (nothing else on the cores): about 41 min per JDK. The table printed
# at the end (jmh/results/<jdk>.mibs.txt) has an error% column: a row whose 99.9 % error is 10 %
# of its score or more is not a result; rerun it (more iterations: I=10) or say why not.
# Smoke check (seconds, meaningless numbers): WI=1 W=1 I=1 R=1 jmh/run-throughput.sh -p payloadMiB=4
set -euo pipefail
cd "$(dirname "$0")/.."
export SUITES=streaming
export WI=${WI:-4} W=${W:-10} I=${I:-5} R=${R:-5}
exec jmh/run.sh "$@"
