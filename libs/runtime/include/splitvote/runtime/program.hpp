// Every program's main in one exit-code policy: 0 done, 1 failed, 2 a configuration (or usage) error.
#pragma once

#include <functional>
#include <string_view>

namespace splitvote::runtime {

/// Runs `body` and returns its status. An exception ends it with "<program>: <what>" on stderr
/// and status 2 for a config::error (the operator must change a setting), 1 for any other
/// std::exception (a dependency failed: a restart may help).
int run_main(std::string_view program, const std::function<int()>& body);

}  // namespace splitvote::runtime
