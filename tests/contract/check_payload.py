#!/usr/bin/env python3
"""Estimates the runtime image's size from the binaries it ships and what they load.

Usage: check_payload.py --dockerfile DOCKERFILE BINARY...

The image (deploy/docker/Dockerfile, runtime stage) is its base plus the stripped binaries
plus the Debian packages the stage installs. Without a Docker engine the sum is made here:

  base image   the documented size of the runtime stage's FROM image (BASE_IMAGES below;
               another base fails the check until its size is added);
  binaries     each BINARY stripped (the Dockerfile installs them with `install -s`);
  libraries    each distinct shared library `ldd` lists for them (real path, linux-vdso
               left out), except those of packages the base already holds (BASE_PACKAGES);
  packages     the other files of those libraries' packages (plugins, modules, copyright
               files) and every package the stage installs that no binary links
               (ca-certificates, openssl, ...), with their dependencies outside the base:
               the files dpkg lists for them here, less what the slim base's dpkg excludes
               keep out (docs but copyright, man pages, locales), plus their dpkg records;
  generated    the CA bundle ca-certificates' postinst writes.

The packages must be installed on this machine (the build's -dev packages pull in the same
runtime packages; Debian 12 like the image). Not counted: /etc/splitvote and the user entries
(a few KB). The binaries are the build's (CTest's: RelWithDebInfo,
stripped here), not the image's Release build.

Fails when the total is 100 MB (10^6 bytes) or more, or when the BINARY list is not the
Dockerfile's list. Exits 77 (CTest SKIP_RETURN_CODE) when ldd is missing, a package of the
runtime stage is not installed here, or the binaries are a sanitizer build (not what the
image ships); 2 on bad usage.
"""
import argparse
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
LIMIT_MB = 100.0
MB = 1e6
# Uncompressed size as `docker images` reports it for linux/amd64 (Docker Hub shows about 28 MB
# compressed). Not measured here (no Docker engine): the figure for the bookworm-slim images.
BASE_IMAGES = {"debian:12-slim": 74.8, "debian:bookworm-slim": 74.8}
# Packages of debian:12-slim (Priority required, apt and what they depend on) whose files
# the base size above already counts.
BASE_PACKAGES = set("""
adduser apt base-files base-passwd bash bsdutils coreutils dash debconf debian-archive-keyring
debianutils diffutils dpkg findutils gcc-12-base gpgv grep gzip hostname init-system-helpers
libacl1 libapt-pkg6.0 libattr1 libaudit-common libaudit1 libblkid1 libbz2-1.0 libc-bin libc6
libcap-ng0 libcap2 libcrypt1 libdb5.3 libdebconfclient0 libffi8 libgcc-s1 libgcrypt20 libgmp10
libgnutls30 libgpg-error0 libhogweed6 libidn2-0 liblz4-1 liblzma5 libmd0 libmount1 libnettle8
libp11-kit0 libpam-modules libpam-modules-bin libpam-runtime libpam0g libpcre2-8-0 libseccomp2
libselinux1 libsemanage-common libsemanage2 libsepol2 libsmartcols1 libstdc++6 libsystemd0
libtasn1-6 libtinfo6 libudev1 libunistring2 libuuid1 libxxhash0 libzstd1 login mawk mount
ncurses-base ncurses-bin passwd perl-base sed sysvinit-utils tar tzdata usr-is-merged util-linux
util-linux-extra zlib1g
""".split())
# The slim images' /etc/dpkg/dpkg.cfg.d/docker (debuerreotype): later packages install without
# these (copyright files kept).
SLIM_EXCLUDES = ["/usr/share/doc/*", "/usr/share/info/*", "/usr/share/linda/*",
                 "/usr/share/lintian/*", "/usr/share/locale/*", "/usr/share/man/*", "/usr/share/groff/*"]
SLIM_INCLUDES = ["/usr/share/doc/*/copyright"]
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def runtime_stage(dockerfile):
    """(base image, apt packages, shipped binary names) of the Dockerfile's last stage."""
    text = re.sub(r"\\\n", " ", open(dockerfile).read())
    stages = re.split(r"^FROM\s+", text, flags=re.M)
    last = stages[-1]
    base = last.split()[0]
    packages = []
    m = re.search(r"apt-get install\s+(.*?)(?:&&|$)", last, re.M)
    if m:
        packages = [w for w in m.group(1).split() if not w.startswith("-")]
    shipped = []
    m = re.search(r"for s in ([^;]+); do\s+install\b", text)
    if m:
        shipped = [f"splitvote-{s}" for s in m.group(1).split()]
    return base, packages, shipped


def stripped_size(path, tmp):
    strip = shutil.which("strip")
    if not strip:
        return os.path.getsize(path), False
    copy = os.path.join(tmp, os.path.basename(path))
    shutil.copyfile(path, copy)
    subprocess.run([strip, copy], check=True)
    return os.path.getsize(copy), True


def ldd_libraries(binary):
    """{real path: path as ldd named it} of the shared libraries binary loads."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = {}
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("linux-vdso") or "not a dynamic executable" in line:
            continue
        m = re.match(r"\S+\s+=>\s+(\S+)\s+\(", line) or re.match(r"(/\S+)\s+\(", line)
        if m and os.path.exists(m.group(1)):
            libs[os.path.realpath(m.group(1))] = m.group(1)
        elif "=> not found" in line:
            raise RuntimeError(f"{binary}: {line}")
    return libs


def owner(path, named):
    """The Debian package holding a library (merged /usr: try every spelling), or None."""
    candidates = {path, named}
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.add(p[len("/usr"):])
        elif p.startswith("/lib"):
            candidates.add("/usr" + p)
    for p in candidates:
        proc = subprocess.run(["dpkg-query", "-S", p], capture_output=True, text=True)
        if proc.returncode == 0:
            return proc.stdout.split(":")[0].strip()
    return None


def excluded(path):
    """Whether the base image's dpkg configuration keeps path out of installed packages."""
    return any(fnmatch.fnmatch(path, p) for p in SLIM_EXCLUDES) and \
        not any(fnmatch.fnmatch(path, p) for p in SLIM_INCLUDES)


def package_files(name):
    """Real paths of the regular files an installed package puts in the image (the base's
    dpkg excludes applied), and its dpkg database entries."""
    proc = subprocess.run(["dpkg-query", "-L", name], capture_output=True, text=True)
    files = set()
    for path in proc.stdout.splitlines():
        if excluded(path) or not os.path.isfile(path) or os.path.islink(path):
            continue
        files.add(os.path.realpath(path))
    files.update(glob.glob(f"/var/lib/dpkg/info/{name}.*") + glob.glob(f"/var/lib/dpkg/info/{name}:*.*"))
    return files


def package_info(name):
    """(installed, [dependency names]) of a package installed here, or None."""
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}\\t${Pre-Depends}, ${Depends}", name],
                          capture_output=True, text=True)
    if proc.returncode != 0 or "install ok installed" not in proc.stdout:
        return None
    _, deps = proc.stdout.split("\t", 1)
    names = []
    for dep in deps.split(","):
        alternatives = [a.strip().split()[0].split(":")[0] for a in dep.split("|") if a.strip()]
        # An alternative: the first one installed here stands for what apt would pick.
        chosen = next((a for a in alternatives if package_info_cached(a) is not None), None)
        if chosen:
            names.append(chosen)
    return True, names


_cache = {}


def package_info_cached(name):
    if name not in _cache:
        _cache[name] = None  # breaks dependency cycles
        _cache[name] = package_info(name)
    return _cache[name]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--dockerfile", required=True)
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args(argv[1:])
    if not shutil.which("ldd"):
        print("ldd not found: cannot list the shared libraries, skipping")
        return SKIP

    failures = []
    base, apt_packages, shipped = runtime_stage(args.dockerfile)
    given = sorted(os.path.basename(b) for b in args.binaries)
    if sorted(shipped) != given:
        failures.append(f"the Dockerfile ships {', '.join(sorted(shipped)) or '(none found)'}; "
                        f"given {', '.join(given)}")
    if base not in BASE_IMAGES:
        failures.append(f"runtime base {base}: its size is not known here (add it to BASE_IMAGES)")
    base_mb = BASE_IMAGES.get(base, 0.0)

    rows = []  # (section, name, bytes, note)
    libraries = {}
    with tempfile.TemporaryDirectory() as tmp:
        for binary in args.binaries:
            size, stripped = stripped_size(binary, tmp)
            rows.append(("binary", os.path.basename(binary), size, "stripped" if stripped else "not stripped (no strip)"))
            libraries.update(ldd_libraries(binary))
    if any(re.search(r"lib(a|ub|t)san\.", p) for p in libraries):
        print("the binaries link a sanitizer runtime: not the image's build, skipping")
        return SKIP

    lib_owners = set()
    for real, named in sorted(libraries.items()):
        package = owner(real, named)
        lib_owners.add(package)
        size = os.path.getsize(real)
        in_base = package in BASE_PACKAGES
        rows.append(("library", real, 0 if in_base else size,
                     f"{package or 'no package'}" + (f", in the base ({size / MB:.2f} MB)" if in_base else "")))

    # Every package the stage brings beyond the base: the libraries' own packages (their other
    # files: plugins, modules, copyright) and what no binary links (ca-certificates, ...),
    # with their dependencies, as the base image's dpkg excludes leave them.
    seen, stack, missing = set(), list(apt_packages) + sorted(p for p in lib_owners if p), []
    counted = {real for real, _ in libraries.items()}
    while stack:
        name = stack.pop()
        if name in seen or name in BASE_PACKAGES:
            continue
        seen.add(name)
        info = package_info_cached(name)
        if info is None:
            missing.append(name)
            continue
        stack += info[1]
        size = sum(os.path.getsize(f) for f in package_files(name) if f not in counted)
        rows.append(("package", name, size, "its files less the libraries above" if name in lib_owners
                     else "no binary links it: all its files"))
    if missing:
        print(f"not installed here, so not measurable: {', '.join(sorted(missing))}; skipping")
        return SKIP
    # Written by ca-certificates' postinst, not a file of the package.
    if "ca-certificates" in seen and os.path.exists(CA_BUNDLE):
        rows.append(("generated", CA_BUNDLE, os.path.getsize(CA_BUNDLE), "update-ca-certificates"))

    total = base_mb * MB
    print(f"{'':10} {'MB':>8}  what")
    print(f"{'base':10} {base_mb:8.2f}  {base} (documented size, not measured)")
    for section, plural in (("binary", "binaries"), ("library", "libraries"), ("package", "packages"),
                            ("generated", "generated")):
        part = sorted((r for r in rows if r[0] == section), key=lambda r: (section == "binary", r[1]))
        subtotal = sum(r[2] for r in part)
        total += subtotal
        for _, name, size, note in part:
            print(f"{section:10} {size / MB:8.2f}  {name} ({note})")
        print(f"{plural:10} {subtotal / MB:8.2f}  subtotal")
    payload = total - base_mb * MB
    print(f"{'total':10} {total / MB:8.2f}  image estimate ({payload / MB:.2f} MB on top of the base; limit {LIMIT_MB:.0f} MB)")
    if total / MB >= LIMIT_MB:
        failures.append(f"image estimate {total / MB:.1f} MB is not below {LIMIT_MB:.0f} MB")

    if failures:
        for f in failures:
            print(f"FAIL: {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
