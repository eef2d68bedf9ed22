#include "splitvote/testing/watchdog.hpp"
#include "splitvote/testing/process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <stdexcept>
#include <thread>

using namespace splitvote::testing;

TEST_CASE("a step is open while its object lives, nested steps too", "[watchdog]") {
  // Nothing to observe from outside but that they nest and close without tripping anything;
  // unit.watchdog-fires below checks what the watchdog prints of them.
  const step outer("outer");
  { const step inner("inner"); }
  CHECK(where(BOOST_CURRENT_LOCATION).starts_with("tests/unit/watchdog_test.cpp:"));
}

// Run only by the CTest test unit.watchdog-fires (hidden tag): it hangs on purpose, with a child
// process running, so that the watchdog (SPLITVOTE_TEST_TIMEOUT=4 there) must end it and say
// where it waited.
TEST_CASE("a hung test: the watchdog names the step and kills the children", "[.][watchdog-hang]") {
  child_process sleeper("/bin/sleep", {"300"}, {},
                        std::filesystem::temp_directory_path() / "splitvote-watchdog-test.log");
  SECTION("waiting for a condition that never holds") {
    const step outer("the demonstration step");
    eventually([] { return false; }, std::chrono::minutes(5));
  }
  FAIL("the watchdog did not end the hung test");
}

// Run only by the CTest test unit.watchdog-terminate (hidden tag): an exception leaves a thread,
// so std::terminate ends the binary; the handler must name the exception and the test case and
// kill the child (without it the child outlived the test: the services of an aborted linkage
// test once kept running into the next ones).
TEST_CASE("an exception leaves a thread: the test says so and its children die with it", "[.][watchdog-terminate]") {
  child_process sleeper("/bin/sleep", {"300"}, {},
                        std::filesystem::temp_directory_path() / "splitvote-watchdog-test.log");
  std::thread([] { throw std::runtime_error("the demonstration failure"); }).join();
  FAIL("std::terminate did not end the test");
}
