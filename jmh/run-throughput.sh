#!/usr/bin/env bash
# The throughput set of issue 13, per JDK, as JSON plus a table ready for docs/benchmarks.md:
#   StreamingThroughputBenchmark  byok push, pull, stream and channel, the NIO path (byok-nio-heap,
#                                 byok-nio-direct: ByteBuffer to ByteBuffer), the JCA floor (jca:
#                                 segment-sized output; jca-dram: blob-sized output), Tink at
#                                 the same segment size, the AWS Encryption SDK, and the two-thread
#                                 rows (byok and the floor, one blob per thread); 64 KiB and 1 MiB
#                                 segments, 64 MiB blobs in memory, 64 KiB application writes/reads
#   ParallelThroughputBenchmark   one 64 MiB blob with k = 1 and 2 segments in flight, to and from a
#                                 FileChannel (why 64 MiB stands for the 1 GiB file: its javadoc)
# all with -prof gc (the B/op column is gc.alloc.rate.norm: bytes allocated per blob).
#
#   jmh/run-throughput.sh                 # JDK 17 and 25: jmh/results/jdk17.{json,txt,mibs.txt},
#                                         #   jmh/results/jdk17.parallel.{json,txt,table.txt}, same for 25
#   JDKS=jdk25 jmh/run-throughput.sh      # one JDK (JAVA17 / JAVA25 choose the binaries)
#   jmh/run-throughput.sh encrypt -p segmentSize=1048576   # a filter, then JMH options
#
# Tables: MiB/s, the 99.9 % error and error% (a row at 10 % or more is not a result: rerun it with
# a larger I, or say why not), B/op; for every byok row its % of the floor rows (same
# direction, segment size and thread count: %floor against jca, the stream rows' floor;
# %floor_dram against jca-dram, the floor of issue 13 and of the byok-nio rows) and its ratio to
# Tink's row (x_tink); for the parallel rows the speed-up k=2 / k=1.
#
# Timing (per fork: one per benchmark x parameters, 48 streaming + 8 parallel = 56 forks per JDK;
# without the two-thread rows, 40 + 8 = 48):
#   warm-up WI=4 x W=5 s   the JDK's AES-GCM intrinsics engage only once the crypto methods are
#                          C2-compiled. Measured with 64 MiB blobs at 1 MiB segments on a loaded
#                          2-core machine (so a quiet one is faster): the interpreted first
#                          iterations run < 1 blob/s and overrun their time; the floor reached its
#                          plateau after 10-12 s on JDK 17 (byok-push: 6 s) and 14-16 s on JDK 25,
#                          the ESDK still gained after 20 s (on JDK 25; a peer, no target ratio
#                          depends on it). If the last warm-up lines in the .txt still climb, rerun
#                          that row with W=8.
#   measure   I=20 x R=1 s one blob takes 10-40 ms, so an iteration holds 25-100 of them. On this
#                          2-vCPU VM successive iterations of one row differ by 4-10 % (standard
#                          deviation) with nothing else running; JMH's 99.9 % error is
#                          t(0.9995, I-1) / sqrt(I) standard deviations: 1.9 at I=8, 0.87 at I=20,
#                          0.75 at I=25. A row whose error is still >= 10 % of its score is not a
#                          result: rerun it alone with a larger I, or say why not.
#   per fork ~8 s more     JVM start, 64 MiB of random plaintext, one checked round trip, -prof gc
# => 56 x (20 + 20 + 8) s = about 45 min per JDK (run.sh prints its estimate before starting);
#    the issue's rows alone (filter '\.(encrypt|decrypt|encryptToChannel|decryptFromChannel)$',
#    which leaves out the two-thread rows) 48 x 48 s = about 38 min.
# Run it on a quiet machine (nothing else on the cores): the numbers mean nothing otherwise.
# Smoke check (a few minutes, meaningless numbers):
#   WI=1 W=1 I=1 R=1 jmh/run-throughput.sh -p payloadMiB=4
set -euo pipefail
cd "$(dirname "$0")/.."
export SUITES="streaming parallel"
export WI=${WI:-4} W=${W:-5} I=${I:-20} R=${R:-1} RUN_OVERHEAD=${RUN_OVERHEAD:-8}
exec jmh/run.sh "$@"
