#!/usr/bin/env bash
# Builds local stand-ins for the official base images docker-compose.yml and the Dockerfile
# name, for machines where no image registry is reachable (the compose smoke test was run this
# way). Each image keeps its official name and the paths, user and entry points the project
# relies on, so the same compose file runs on the real images and on these:
#   debian:bookworm-slim      debootstrap (minbase) from the apt mirror this machine uses
#   node:20-bookworm-slim     that Debian + this machine's Node 20 and npm, user node (uid 1000)
#   eclipse-mosquitto:2       that Debian + Debian's mosquitto, /mosquitto/{config,data,log}
#   apache/kafka:3.9.1        that Debian + OpenJDK 17 + Kafka's jars from Maven Central, with
#                             the official image's KAFKA_* environment -> server.properties mapping
# An image that already exists is kept (REBUILD=1 rebuilds them all). Needs root, a running
# dockerd, debootstrap, and the Kafka jars (npm run test:e2e resolves them into .cache/kafka-jars;
# KAFKA_JARS=<dir> points elsewhere).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# The first Debian (not security) URI of apt's sources, one-line or deb822 format.
MIRROR="${DEBIAN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -E '^(deb |URIs:)' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ' || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
KAFKA_VERSION=3.9.1
KAFKA_JARS="${KAFKA_JARS:-$ROOT/.cache/kafka-jars/$KAFKA_VERSION}"
WORK="$(mktemp -d /tmp/base-images.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

have() { [[ "${REBUILD:-}" != 1 ]] && docker image inspect "$1" >/dev/null 2>&1; }
say() { printf '== %s\n' "$*"; }

if have debian:bookworm-slim; then say "debian:bookworm-slim present"; else
  say "debian:bookworm-slim: debootstrap from $MIRROR"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log"; exit 1; }
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
  tar -C "$WORK/rootfs" -c . | docker import --change 'CMD ["bash"]' - debian:bookworm-slim
  rm -rf "$WORK/rootfs"
fi

if have node:20-bookworm-slim; then say "node:20-bookworm-slim present"; else
  say "node:20-bookworm-slim: Debian + $(node --version) from this machine"
  mkdir -p "$WORK/node"
  cp "$(readlink -f "$(command -v node)")" "$WORK/node/node"
  npm_root="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  cp -a "$npm_root" "$WORK/node/npm"
  # Where egress goes through a TLS-intercepting proxy, its CA (installed on this machine under
  # /usr/local/share/ca-certificates) must be trusted for `npm ci` in the project's image build.
  cat /usr/local/share/ca-certificates/*.crt >"$WORK/node/extra-ca.pem" 2>/dev/null || true
  cat >"$WORK/node/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY extra-ca.pem /usr/local/share/extra-ca.pem
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/extra-ca.pem
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
CMD ["node"]
DOCKERFILE
  docker build --network host -q -t node:20-bookworm-slim "$WORK/node"
fi

if have eclipse-mosquitto:2; then say "eclipse-mosquitto:2 present"; else
  say "eclipse-mosquitto:2: Debian + mosquitto"
  mkdir -p "$WORK/mosquitto"
  cat >"$WORK/mosquitto/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends mosquitto mosquitto-clients \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \
 && printf 'listener 1883\nallow_anonymous true\n' >/mosquitto/config/mosquitto.conf \
 && chown -R mosquitto:mosquitto /mosquitto
EXPOSE 1883
# The official image starts as root and mosquitto drops to the mosquitto user.
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
DOCKERFILE
  docker build --network host -q -t eclipse-mosquitto:2 "$WORK/mosquitto"
fi

if have "apache/kafka:$KAFKA_VERSION"; then say "apache/kafka:$KAFKA_VERSION present"; else
  say "apache/kafka:$KAFKA_VERSION: Debian + OpenJDK 17 + jars from $KAFKA_JARS"
  [[ -f "$KAFKA_JARS/kafka_2.13-$KAFKA_VERSION.jar" ]] || { echo "no Kafka jars in $KAFKA_JARS (docs/deployment.md: resolveKafkaJars, or npm run test:e2e once; or set KAFKA_JARS)"; exit 1; }
  mkdir -p "$WORK/kafka"
  cp -a "$KAFKA_JARS" "$WORK/kafka/libs"
  cp "$HERE/kafka-standin/"* "$WORK/kafka/"
  docker build --network host -q -t "apache/kafka:$KAFKA_VERSION" "$WORK/kafka"
fi
say "done"
