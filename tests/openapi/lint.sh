#!/usr/bin/env bash
# lint.sh OPENAPI: lints the OpenAPI document with Redocly CLI, as tests/openapi/package-lock.json
# pins it (script/bootstrap runs npm ci here), with the rules of tests/openapi/redocly.yaml.
# Offline: no telemetry, no update check. Exits 0 when Redocly reports no error and no warning,
# 1 otherwise (its report says which rule, where). Without node or the package: 77 (CTest
# SKIP_RETURN_CODE) with a loud line, or 1 in CI (CI=true), where script/bootstrap installs both.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
openapi=${1:?usage: lint.sh OPENAPI}
redocly=$here/node_modules/.bin/redocly
if ! command -v node >/dev/null || [[ ! -x $redocly ]]; then
  echo "SKIPPED: Redocly CLI is not installed (npm ci in tests/openapi): $openapi was NOT linted"
  [[ ${CI:-} == true ]] && { echo "CI=true: script/bootstrap must have installed it"; exit 1; }
  exit 77
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1
version=$(node -p "require('$here/node_modules/@redocly/cli/package.json').version")
status=0
report=$("$redocly" lint --config "$here/redocly.yaml" --format stylish "$openapi" 2>&1) || status=$?
echo "$report"
if ((status != 0)); then
  echo "Redocly CLI $version: errors in $openapi (above)"
  exit 1
fi
if grep -qiE '[1-9][0-9]* warnings?' <<<"$report"; then
  echo "Redocly CLI $version: warnings in $openapi (above); the rules allow none"
  exit 1
fi
echo "Redocly CLI $version: $openapi is valid, no error and no warning"
