#!/usr/bin/env bash
# contract.format: every C++ file git tracks is laid out as .clang-format says (clang-format 14,
# Debian's, what script/bootstrap installs). On a difference it names the files and prints
# how to fix them.
#   check_format.sh SOURCE_DIR
set -euo pipefail
cd "$1"
command -v clang-format-14 >/dev/null || { echo "contract.format: clang-format-14 is missing (script/bootstrap installs it)"; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' ':!:**/node_modules/**')
((${#files[@]})) || { echo "contract.format: no C++ files found under $1 (not a git checkout?)"; exit 1; }
# One run over all files (one process per file costs seconds); it names each file that differs.
status=0
out=$(clang-format-14 --dry-run --Werror "${files[@]}" 2>&1) || status=$?
mapfile -t bad < <(sed -n -E 's/^([^:]+\.(cpp|hpp|h)):[0-9]+:[0-9]+: (error|warning): .*/\1/p' <<<"$out" | sort -u)
if ((status != 0 && ${#bad[@]} == 0)); then
  echo "contract.format: clang-format-14 failed (status $status) without naming a file:"
  echo "$out" | head -n 20
  exit 1
fi
if ((${#bad[@]})); then
  printf 'contract.format: %d of %d files differ from .clang-format:\n' "${#bad[@]}" "${#files[@]}"
  printf '  %s\n' "${bad[@]}"
  echo "fix: clang-format-14 -i ${bad[*]}"
  exit 1
fi
echo "contract.format: ${#files[@]} files as .clang-format lays them out"
