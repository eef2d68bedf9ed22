#!/usr/bin/env bash
# make-rootfs.sh ROOTFS KEYS: cuts the runtime image's file tree out of this Debian 12 system
# (deploy/docker/Dockerfile, stage rootfs, where the runtime packages are installed and the
# binaries are already in ROOTFS/usr/local/bin). Into ROOTFS it copies:
#   - every shared library ldd lists for the binaries, bash and sleep (and the loader), with
#     the symlinks that name them;
#   - bash (compose's healthchecks: /dev/tcp) and sleep (the Kubernetes preStop hook), and sh
#     as a link to bash: tools that run a healthcheck through /bin/sh -c (podman-compose) find it;
#   - cp, mv and chmod: compose's keygen job publishes the public keys with them (found when
#     compose.yaml first ran for real: without them it stopped with status 127); openssl:
#     compose's tls-cert job makes the proxy's self-signed certificate with it;
#   - the CA bundle ca-certificates generated (/etc/ssl/certs/ca-certificates.crt), OpenSSL's
#     configuration and the links through which OpenSSL's default paths find both;
#   - /etc/passwd and /etc/group with root and splitvote (uid/gid 10001), nsswitch.conf;
#   - for each Debian package a file came from: its copyright file (/usr/share/doc/PKG/) and
#     its dpkg record (/var/lib/dpkg/status.d/PKG, as distroless images carry them, so that
#     scanners see the versions);
#   - /tmp (1777), /var/lib/splitvote/keys (root, 0755).
# Into KEYS: the key directories pollbook/ and ballotbox/ (0700), public/ and tls/ (0755: the
# proxy's certificate, compose's tls-cert job), which the
# Dockerfile copies with --chown=10001:10001.
# Not carried: what the libraries only dlopen (SASL mechanism and Kerberos plugins, iconv's
# gconv modules, OpenSSL's legacy provider): GSSAPI/Kerberos authentication would need them.
# Fails when a library is not found.
set -euo pipefail
rootfs=$1 keys=$2

declare -A files=()
# add PATH: PATH with its directories resolved (merged /usr: /lib is /usr/lib), and, when it is
# a symlink, what it points to, to the end of the chain.
add() {
  local path=$1 dir target
  while :; do
    dir=$(readlink -f "$(dirname "$path")")
    path=$dir/$(basename "$path")
    [[ -e $path ]] || { echo "make-rootfs: $path does not exist" >&2; return 1; }
    files[$path]=1
    [[ -L $path ]] || return 0
    target=$(readlink "$path")
    [[ $target == /* ]] || target=$dir/$target
    path=$target
  done
}

tools=(/usr/bin/bash /usr/bin/sleep /usr/bin/cp /usr/bin/mv /usr/bin/chmod /usr/bin/openssl)
programs=("$rootfs"/usr/local/bin/* "${tools[@]}")
for program in "${tools[@]}"; do add "$program"; done
for program in "${programs[@]}"; do
  out=$(ldd "$program")
  if grep -q 'not found' <<<"$out"; then
    echo "make-rootfs: $program: a library is missing:" >&2
    grep 'not found' <<<"$out" >&2
    exit 1
  fi
  # "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  while read -r library; do add "$library"; done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out")
done
for path in /etc/ssl/certs/ca-certificates.crt /etc/ssl/openssl.cnf /usr/lib/ssl/cert.pem \
            /usr/lib/ssl/certs /usr/lib/ssl/openssl.cnf /etc/nsswitch.conf; do
  add "$path"
done

# The Debian packages those files came from: dpkg knows most of them by their pre-merge
# names (/lib/x86_64-linux-gnu/...), so ask for both spellings.
queries=()
for path in "${!files[@]}"; do
  queries+=("$path")
  if [[ $path == /usr/* ]]; then queries+=("${path#/usr}"); fi
done
mapfile -t packages < <(dpkg-query -S "${queries[@]}" 2>/dev/null | sed -n 's/^\([^:,]*\)[:,].*/\1/p' | sort -u)

# The usr-merged layout of Debian 12, then the files (tar keeps symlinks, modes and owners).
mkdir -p "$rootfs/usr/bin" "$rootfs/usr/sbin" "$rootfs/usr/lib" "$rootfs/usr/lib64"
for d in bin sbin lib lib64; do ln -sfn "usr/$d" "$rootfs/$d"; done
printf '%s\n' "${!files[@]}" | sed 's|^/||' | sort | tar -C / -c --no-recursion -T - | tar -C "$rootfs" -x
ln -sfn bash "$rootfs/usr/bin/sh"
# /usr/lib/ssl/certs is a symlink to the certificate directory: only the bundle is carried.

mkdir -p "$rootfs/var/lib/dpkg/status.d"
for package in "${packages[@]}"; do
  name=${package%%:*}
  if [[ -f /usr/share/doc/$name/copyright ]]; then
    install -D -m 0644 "/usr/share/doc/$name/copyright" "$rootfs/usr/share/doc/$name/copyright"
  fi
  dpkg-query -s "$package" >"$rootfs/var/lib/dpkg/status.d/$name"
done

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/bin/bash
splitvote:x:10001:10001:splitvote:/nonexistent:/usr/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
splitvote:x:10001:
EOF
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"
install -d -m 1777 "$rootfs/tmp"
install -d -m 0700 "$rootfs/root"
install -d -m 0755 "$rootfs/var/lib/splitvote" "$rootfs/var/lib/splitvote/keys"
install -d -m 0700 "$keys/pollbook" "$keys/ballotbox"
install -d -m 0755 "$keys/public" "$keys/tls"

echo "make-rootfs: ${#files[@]} files and links from ${#packages[@]} packages; $(du -sh "$rootfs" | cut -f1) in all"
