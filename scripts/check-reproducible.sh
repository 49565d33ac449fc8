#!/usr/bin/env bash
# Two clean builds must give byte-identical artifacts: every jar (classes, sources, javadoc,
# the CLI's shaded byok.jar) and every CycloneDX SBOM under */target.
#
#   scripts/check-reproducible.sh            # build twice (no tests) and compare
#   scripts/check-reproducible.sh --reuse    # the tree was just built clean: build once more and compare
#
# Extra Maven arguments go in MVN_ARGS (e.g. MVN_ARGS="-Prelease -DskipSigning" for the release dry run).
set -euo pipefail
cd "$(dirname "$0")/.."

digest() {
  find . -path ./.git -prune -o -path '*/target/*' -type f \( -name '*.jar' -o -name '*-cyclonedx.json' \) \
    -not -path '*/target/surefire*' -not -name 'original-*' -print0 | sort -z | xargs -0 sha256sum
}
build() {
  # shellcheck disable=SC2086
  mvn -B -ntp -q clean verify -DskipTests -Dspotless.check.skip=true ${MVN_ARGS:-}
}

first=$(mktemp); second=$(mktemp)
trap 'rm -f "$first" "$second"' EXIT
if [ "${1:-}" != "--reuse" ]; then
  build
fi
digest > "$first"
build
digest > "$second"
count=$(wc -l < "$second")
if [ "$count" -eq 0 ]; then
  echo "reproducible: no artifacts found" >&2
  exit 1
fi
if ! diff -u "$first" "$second"; then
  echo "reproducible: FAILED, the artifacts above differ between two clean builds" >&2
  exit 1
fi
echo "reproducible: $count artifacts byte-identical across two clean builds"
