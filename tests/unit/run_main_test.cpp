#include "splitvote/config/settings.hpp"
#include "splitvote/runtime/program.hpp"

#include <catch2/catch.hpp>

#include <iostream>
#include <sstream>
#include <stdexcept>

using namespace splitvote;

namespace {
/// run_main's status and what it wrote on stderr.
std::pair<int, std::string> run(const std::function<int()>& body) {
  std::ostringstream captured;
  auto* const old = std::cerr.rdbuf(captured.rdbuf());
  const int status = runtime::run_main("splitvote-test", body);
  std::cerr.rdbuf(old);
  return {status, captured.str()};
}
}  // namespace

TEST_CASE("run_main: one exit-code policy for every program", "[unit]") {
  CHECK(run([] { return 0; }) == std::pair<int, std::string>{0, ""});
  CHECK(run([] { return 3; }).first == 3);  // the body's own status passes through
  CHECK(run([]() -> int { throw config::error("invalid configuration:\n  http.port: required"); }) ==
        std::pair<int, std::string>{2, "splitvote-test: invalid configuration:\n  http.port: required\n"});
  CHECK(run([]() -> int { throw std::runtime_error("database unreachable"); }) ==
        std::pair<int, std::string>{1, "splitvote-test: database unreachable\n"});
}
