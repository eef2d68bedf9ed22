// What build this binary is: the project's version and the commit it was built from.
#pragma once

#include <string_view>

namespace splitvote::runtime {

struct build_info {
  std::string_view version;  // the project's version (CMakeLists.txt, project(... VERSION))
  std::string_view commit;   // 12 hex digits, "-dirty" when built from changed files; "unknown"
};

/// This binary's build (generated at build time by cmake/build_info.cmake).
const build_info& build();

}  // namespace splitvote::runtime
