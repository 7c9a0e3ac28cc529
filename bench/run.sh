#!/usr/bin/env bash
# Benchmarks (not tests): bench/run.sh make DATA_DIR [N] | preprocess DATA_DIR [MASTER] | score DATA_DIR [MASTER] [BATCH]
# Runs the single-file Java programs in bench/ on the packaged jar with the project's JVM flags (conf/jvm.properties).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$ROOT/pom.xml" | head -1)"
JAR="$ROOT/jobs/target/sparkconv-$VERSION.jar"
[[ -f "$JAR" ]] || (cd "$ROOT" && mvn -q -B package -DskipTests)
CP="${BENCH_CLASSES:+$BENCH_CLASSES:}$JAR:$(cat "$ROOT/jobs/target/spark-classpath.txt")"
JVM_FLAGS="$(sed -n '/^jvm.flags=/,/[^\\]$/p' "$ROOT/conf/jvm.properties" | sed 's/^jvm.flags=//; s/\\$//' | tr '\n' ' ')"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
what="$1"; shift
case "$what" in
  make) main=MakeImages ;;
  preprocess) main=PreprocessBench ;;
  score) main=ScoreBench ;;
  *) echo "usage: bench/run.sh make|preprocess|score DATA_DIR ..." >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
exec java -Xmx4g $JVM_FLAGS -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" -cp "$CP" "$ROOT/bench/$main.java" "$@"
