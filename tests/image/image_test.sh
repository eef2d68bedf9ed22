#!/usr/bin/env bash
# tests.image: the container image builds (script/image --prebuilt: deploy/docker/Dockerfile with
# this build's binaries, the compile stage skipped), its real size (podman image inspect .Size)
# is under 100 MB, every binary it ships starts in a container as uid 10001, and the key
# directories have the owners and modes compose's volumes need.
# Usage: image_test.sh BUILD_DIR
# No podman and no way to install it: FAIL, never a silent pass.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$1" && pwd)
IMAGE=localhost/splitvote:test
LIMIT=100000000  # bytes (100 MB, 10^6 bytes each, as podman reports sizes)
failures=0
fail() { echo "image_test: FAIL: $*" >&2; failures=$((failures + 1)); }
run() { podman run --rm --network none "$@"; }

started=$SECONDS
"$ROOT/script/image" --prebuilt "$BUILD" --tag "$IMAGE"
echo "image_test: script/image took $((SECONDS - started)) s"

# The size, and what each layer brings.
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
echo "image_test: $IMAGE is $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') MB; limit 100 MB)"
podman history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | cut -c1-150
((size < LIMIT)) || fail "the image is $size bytes, not under $LIMIT"

# The image's configuration: the user and the default command.
user=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
[[ $user == 10001:10001 ]] || fail "the image runs as '$user', not 10001:10001"

# Every binary starts (none has --help: each one's probe below), as uid 10001 without network,
# all in one container (each container costs seconds here; the image has bash but no grep). Each probe prints
# "== NAME STATUS" and then its output.
probes=$(run "$IMAGE" bash -c '
  probe() { local name=$1; shift; out=$("$@" 2>&1); echo "== $name $?"; echo "$out"; }
  echo "== whoami $UID"; while read -r line; do [[ $line != splitvote:* ]] || echo "$line"; done </etc/passwd
  echo "== shipped"; cd /usr/local/bin && echo *
  # keygen writes a key pair where the pollbook volume goes: uid 10001 can write there.
  probe splitvote-keygen splitvote-keygen /var/lib/splitvote/keys/pollbook/probe
  probe splitvote-migrate splitvote-migrate
  probe splitvote-scrub splitvote-scrub
  probe splitvote-dev-broker splitvote-dev-broker --no-such-option
  for s in ingest pollbook ballotbox; do probe splitvote-$s splitvote-$s --config /etc/splitvote/$s.yaml; done
  # compose healthchecks run bash (/dev/tcp) through /bin/sh, the Kubernetes preStop hook sleep,
  # the keygen job of compose cp, mv and chmod, its tls-cert job openssl; TLS needs the CA bundle where OpenSSL looks by default.
  probe tools bash -c "sleep 0 && [[ -s /usr/lib/ssl/cert.pem && -s /etc/ssl/certs/ca-certificates.crt && -x /usr/bin/cp && -x /usr/bin/mv && -x /usr/bin/chmod && -x /usr/bin/openssl ]]"
  probe sh /bin/sh -c "echo sh is bash \${BASH_VERSION%%.*}"
' 2>&1) || true
section() { awk -v h="== $1" '$0 ~ /^== / { on = index($0, h " ") == 1 || $0 == h; next } on' <<<"$probes"; }
status() { sed -n "s/^== $1 \([0-9]*\)$/\1/p" <<<"$probes"; }
[[ $(status whoami) == 10001 && $(section whoami) == "splitvote:x:10001:10001:"* ]] ||
  fail "a container does not run as uid 10001 (splitvote): $probes"

# Exactly the Dockerfile's binaries.
services=$(sed -n 's/.*for s in \([a-z -]*\); do.*/\1/p' "$ROOT/deploy/docker/Dockerfile")
expected=$(for s in $services; do echo "splitvote-$s"; done | sort | xargs)
shipped=$(section shipped | xargs -n1 | sort | xargs)
[[ $shipped == "$expected" ]] || fail "/usr/local/bin holds '$shipped', the Dockerfile ships '$expected'"

# expect NAME WANT_STATUS WANT_OUTPUT_REGEX: the probe's exit status and a line of its output.
expect() {
  local got out
  got=$(status "$1") out=$(section "$1")
  if [[ $got != "$2" ]] || ! grep -qE -- "$3" <<<"$out"; then
    fail "$1: exit ${got:-none} (want $2), output: $out (want /$3/)"
  else
    echo "image_test: $1: exit $got, $(grep -E -m1 -- "$3" <<<"$out")"
  fi
}
expect splitvote-keygen 0 "wrote /var/lib/splitvote/keys/pollbook/probe.key"
expect splitvote-migrate 2 "nothing to do"
expect splitvote-scrub 2 "nothing to do"
expect splitvote-dev-broker 2 "^usage: splitvote-dev-broker"
# The services read the shipped configuration: all of it accepted, only what the environment
# must give (DSNs, brokers, secrets) is missing.
for s in ingest pollbook ballotbox; do
  expect "splitvote-$s" 2 "^  kafka.bootstrap_servers: required"
  if section "splitvote-$s" | grep -v -E '^  [a-z_.]+(dsn|bootstrap_servers|actor_secret): required|invalid configuration in' | grep -q .; then
    fail "splitvote-$s: the shipped /etc/splitvote/$s.yaml is not accepted as it is: $(section "splitvote-$s")"
  fi
done
expect tools 0 "^$"
expect sh 0 "^sh is bash [0-9]+$"
# The dev broker runs: its mock cluster starts, and SIGTERM stops it cleanly.
container=$(podman run -d --network none "$IMAGE" splitvote-dev-broker --brokers 1 --partitions 1)
for _ in $(seq 100); do
  podman logs "$container" 2>&1 | grep -q '^bootstrap.servers=' && break
  sleep 0.1
done
podman stop -t 10 "$container" >/dev/null
status=$(podman inspect "$container" --format '{{.State.ExitCode}}')
logs=$(podman logs "$container" 2>&1)
podman rm "$container" >/dev/null
if [[ $status == 0 && $logs == *"bootstrap.servers="*"stopping"* ]]; then
  echo "image_test: splitvote-dev-broker ran and stopped on SIGTERM"
else
  fail "splitvote-dev-broker: exit $status, output: $logs"
fi
# Owners and modes, from the image's file tree.
container=$(podman create "$IMAGE")
listing=$(podman export "$container" | tar -tv --numeric-owner -f - |
  awk '{ print $1, $2, $6 }' | grep -E ' (var/lib/splitvote/[a-z/]*|tmp/|etc/splitvote/[a-z.]*)$')
podman rm "$container" >/dev/null
for want in "drwxr-xr-x 0/0 var/lib/splitvote/" "drwxr-xr-x 0/0 var/lib/splitvote/keys/" \
            "drwx------ 10001/10001 var/lib/splitvote/keys/pollbook/" \
            "drwx------ 10001/10001 var/lib/splitvote/keys/ballotbox/" \
            "drwxr-xr-x 10001/10001 var/lib/splitvote/keys/public/" \
            "drwxr-xr-x 10001/10001 var/lib/splitvote/keys/tls/" "drwxrwxrwt 0/0 tmp/" \
            "-rw-r--r-- 0/0 etc/splitvote/ingest.yaml"; do
  grep -qxF -- "$want" <<<"$listing" || fail "not in the image: '$want'; found:"$'\n'"$listing"
done

((failures == 0)) || { echo "image_test: $failures failures" >&2; exit 1; }
echo "image_test: passed ($((SECONDS - started)) s)"
