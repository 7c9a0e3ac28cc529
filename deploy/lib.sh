# Shared by deploy/cluster and deploy/submit (sourced, not run): where the build outputs are and the one JVM-flag list.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' "$ROOT/pom.xml" | head -1)"
JAR="$ROOT/jobs/target/sparkconv-$VERSION.jar"
# What a Spark distribution's jars/ holds (deploy/spark-runtime) and Hadoop's HDFS servers (minicluster jar), written at build time
SPARK_CP_FILE="$ROOT/deploy/spark-runtime/target/classpath.txt"
HDFS_CP_FILE="$ROOT/jobs/target/hdfs-classpath.txt"
# Hadoop's MiniKdc and Apache Kerby (deploy/cluster --kerberos)
KDC_CP_FILE="$ROOT/jobs/target/kdc-classpath.txt"

die() {
  echo "$(basename "$0"): error: $*" >&2
  exit 2
}

require_build() {
  if [[ ! -f "$JAR" || ! -f "$SPARK_CP_FILE" || ! -f "$HDFS_CP_FILE" ]]; then
    echo "$(basename "$0"): building $JAR (mvn package -DskipTests)..." >&2
    (cd "$ROOT" && mvn -q -B package -DskipTests) >&2 || die "build failed"
  fi
}

# the one JVM-flag list (conf/jvm.properties) on one line
jvm_flags() {
  "$ROOT/conf/jvm-flags" | sed 's/^ //; s/ $//'
}
