#!/usr/bin/env python3
"""contract.nginx: deploy/compose/nginx.conf, derived for this host exactly as e2e.replicas runs
it (tests/support/nginx_config.py), passes `nginx -t` of Debian's nginx: a syntax error or an
unknown directive in the shipped file fails here. Without nginx (script/bootstrap installs
nginx-light): SKIP (77).

    check_nginx.py SOURCE_DIR [NGINX]
"""
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def main() -> int:
    source = sys.argv[1]
    sys.path.insert(0, os.path.join(source, "tests", "support"))
    import nginx_config  # noqa: E402 (found through the path above)

    nginx = sys.argv[2] if len(sys.argv) > 2 else shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:" + os.environ.get("PATH", ""))
    if not nginx or not os.access(nginx, os.X_OK):
        print("contract.nginx: no nginx (script/bootstrap installs nginx-light): skipped")
        return SKIP
    shipped = os.path.join(source, "deploy", "compose", "nginx.conf")
    with tempfile.TemporaryDirectory(prefix="contract-nginx-") as d:
        # A certificate for the HTTPS server, so that nginx -t reads the TLS settings as shipped.
        cert, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
        made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                               "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                              capture_output=True, text=True)
        if made.returncode != 0:
            print(f"contract.nginx: openssl could not make a test certificate: {made.stderr}")
            return 1
        try:
            # nginx -t opens no listening socket: any ports do.
            conf = nginx_config.write(shipped, d, 8080, ["127.0.0.1:8081", "127.0.0.1:8082"], (cert, key))
        except nginx_config.config_mismatch as e:
            print(f"contract.nginx: {shipped}: {e}")
            return 1
        r = subprocess.run([nginx, "-t", "-p", d, "-c", conf, "-e", "stderr"], capture_output=True, text=True)
        print(r.stderr, end="")
        if r.returncode != 0:
            print(f"contract.nginx: nginx -t refused {shipped} (derived: {conf})")
            return 1
    print(f"contract.nginx: {shipped} passes nginx -t ({nginx})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
