#!/usr/bin/env bash
# browser.ui: the web UI in Debian's Chromium, driven by playwright-core (ui_test.mjs) against
# the real stack that the e2e binary's [browser] case starts. Exits 77 (CTest: skipped) when
# Chromium, node or the npm packages are missing; in CI (CI=true) that is a failure instead.
#   run.sh E2E_BINARY
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
missing=()
[[ -x /usr/bin/chromium ]] || missing+=("/usr/bin/chromium (script/bootstrap installs it)")
NODE=$(command -v node || true)
[[ -n "$NODE" ]] || missing+=("node (script/bootstrap installs nodejs)")
[[ -f "$HERE/node_modules/playwright-core/package.json" ]] || missing+=("playwright-core (script/bootstrap runs npm ci in tests/browser)")
if ((${#missing[@]})); then
  echo "browser.ui: missing: ${missing[*]}"
  [[ "${CI:-}" == true ]] && exit 1
  exit 77
fi
export SPLITVOTE_NODE=$NODE SPLITVOTE_BROWSER_TEST=$HERE/ui_test.mjs PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec "$1" "[browser]" --durations yes
