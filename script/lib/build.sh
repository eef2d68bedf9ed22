# Configure and build splitvote into a build directory (sourced, not run).
# build_splitvote BUILD_DIR [CMAKE_ARGS...]
build_splitvote() {
  local build_dir=$1; shift
  mkdir -p "$build_dir"
  if ! { cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
         cmake --build "$build_dir" -j "$(nproc)"; } >"$build_dir/build.log" 2>&1; then
    grep -E "error|Error" "$build_dir/build.log" | head -n 40 >&2
    echo "build failed: see $build_dir/build.log" >&2
    return 1
  fi
}
