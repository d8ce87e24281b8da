# Sourced by ./orion, ./run-tests and .ci/run: export JAVA_HOME pointing at a JDK >= 22.
# Order: JAVA_HOME if it is one, else the newest under /usr/lib/jvm. The machine's default java may be 17.
orion_jdk_major() { # $1 = JDK home; prints the feature version or nothing
  local home=$1 v=
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  echo "$v"
}
orion_find_jdk() {
  local best= best_v=0 c v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(orion_jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 22 ]; then return 0; fi
  fi
  for c in /usr/lib/jvm/*; do
    [ -L "$c" ] && continue
    v=$(orion_jdk_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 22 ] && [ "$v" -gt "$best_v" ]; then best=$c; best_v=$v; fi
  done
  if [ -z "$best" ]; then
    echo "orion: no JDK 22 or newer found (JAVA_HOME=${JAVA_HOME:-unset}, looked in /usr/lib/jvm)." >&2
    echo "orion: install one (e.g. apt-get install openjdk-25-jdk-headless, or Temurin 25) or set JAVA_HOME to it." >&2
    return 1
  fi
  export JAVA_HOME=$best
}
orion_find_jdk || exit 1
export PATH="$JAVA_HOME/bin:$PATH"
# Maven's own libraries (guice, jansi) touch sun.misc.Unsafe; keep that JDK 24+ notice out of our build output.
if [ "$(orion_jdk_major "$JAVA_HOME")" -ge 24 ]; then
  case " ${MAVEN_OPTS:-} " in *sun-misc-unsafe*) ;; *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED";; esac
fi
