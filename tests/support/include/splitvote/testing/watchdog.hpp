// Names what a test is waiting on, and ends a hung test with those names before CTest's timeout.
#pragma once

#include <boost/assert/source_location.hpp>
#include <chrono>
#include <list>
#include <string>

namespace splitvote::testing {

/// One step a test is in ("waiting for ingest's /readyz"), for as long as the object lives.
/// Steps of all threads are kept; the watchdog prints those still open when it fires.
class step {
public:
  explicit step(std::string what);
  ~step();
  step(const step&) = delete;
  step& operator=(const step&) = delete;

  struct open_step {
    std::string what;
    std::chrono::steady_clock::time_point since;
  };

private:
  std::list<open_step>::iterator it_;
};

/// "file:line" of a call site, the path from the source tree on (for step names).
std::string where(const boost::source_location& at);

/// Started once by the test binaries' main: when $SPLITVOTE_TEST_TIMEOUT (seconds, CTest's TIMEOUT
/// of that test, set by tests/CMakeLists.txt) is nearly used up, prints the test case, its
/// sections and every open step to stderr, kills the child processes still running, and exits
/// with status 124. Without the variable it does nothing. In any case it installs a terminate
/// handler that names the exception and the test case and kills the children before aborting.
void start_watchdog();

/// The Catch test case and section the run is in (kept by the main's listener).
void set_current_test(const std::string& test_case, const std::string& section);

/// Child processes the watchdog kills before it exits (child_process registers its own).
void register_child(int pid, const std::string& name);
void forget_child(int pid);

}  // namespace splitvote::testing
