// Catch2's main for every test binary, with the watchdog (testing/watchdog.hpp) and a listener
// that tells it which test case and section are running.
#define CATCH_CONFIG_RUNNER
#include "splitvote/testing/watchdog.hpp"

#include <catch2/catch.hpp>

namespace {

struct current_test_listener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  // Each override calls the base first: it keeps the stacks its *Ended() handlers pop.
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    test_case_ = info.name;
    splitvote::testing::set_current_test(test_case_, "");
  }
  void sectionStarting(const Catch::SectionInfo& info) override {
    TestEventListenerBase::sectionStarting(info);
    // The outermost section carries the test case's own name.
    if (info.name != test_case_) splitvote::testing::set_current_test(test_case_, info.name);
  }
  std::string test_case_;
};

}  // namespace

CATCH_REGISTER_LISTENER(current_test_listener)

int main(int argc, char* argv[]) {
  splitvote::testing::start_watchdog();
  return Catch::Session().run(argc, argv);
}
