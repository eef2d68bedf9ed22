#!/bin/bash
# Runs compose's nginx.conf on Debian 12's nginx 1.22, which lacks one thing it uses: the
# upstream server's `resolve` parameter (nginx 1.27.3). Without it the replicas' addresses are
# resolved once, at start (through the container's resolver), which is all this local run
# needs. Nothing else of the file is changed: the copy differs by that one word.
set -euo pipefail
sed 's/^\(\s*server [^;]*\) resolve;/\1;/' /etc/nginx/nginx.conf >/tmp/nginx.conf
exec nginx -c /tmp/nginx.conf -g 'daemon off;'
