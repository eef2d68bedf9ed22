# Configure and build splitvote into a build directory with Ninja (sourced, not run).
# build_splitvote BUILD_DIR [CMAKE_ARGS...]: Release unless the arguments say otherwise. The output
# goes to BUILD_DIR/build.log; with $SPLITVOTE_TIMINGS set, the configure, compile and link times
# are appended to it (script/lib/timing.sh prints the table).
source "$(dirname "${BASH_SOURCE[0]}")/timing.sh"

build_splitvote() {
  local build_dir=$1; shift
  mkdir -p "$build_dir"
  # A tree configured by an older script with Unix Makefiles: Ninja needs a fresh cache.
  if [[ -f "$build_dir/CMakeCache.txt" ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$build_dir/CMakeCache.txt"; then
    rm -rf "$build_dir/CMakeCache.txt" "$build_dir/CMakeFiles"
  fi
  local name started build_started_ns
  name=$(basename "$build_dir")
  started=$SECONDS
  if ! cmake -G Ninja -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@" >"$build_dir/build.log" 2>&1; then
    tail -n 40 "$build_dir/build.log" >&2
    echo "configure failed: see $build_dir/build.log" >&2
    return 1
  fi
  timing_add "$name: configure" $((SECONDS - started))
  started=$SECONDS
  build_started_ns=$(date +%s%N)
  if ! cmake --build "$build_dir" -j "$(nproc)" >>"$build_dir/build.log" 2>&1; then
    grep -E "error|Error|FAILED" "$build_dir/build.log" | head -n 40 >&2
    echo "build failed: see $build_dir/build.log" >&2
    return 1
  fi
  timing_build "$name" "$build_dir/.ninja_log" "$build_started_ns" $((SECONDS - started))
}
