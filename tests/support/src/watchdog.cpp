#include "splitvote/testing/watchdog.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace splitvote::testing {

namespace {

struct state {
  std::mutex mutex;
  std::list<step::open_step> steps;
  std::map<int, std::string> children;  // pid -> binary name
  std::string test_case, section;
};

state& shared() {
  static state* s = new state;  // never destroyed: the watchdog thread may outlive main's statics
  return *s;
}

void fire(double seconds) {
  auto& s = shared();
  std::ostringstream out;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(s.mutex);
    out << "\nwatchdog: no end after " << seconds
        << " s, before CTest's timeout; test case: " << (s.test_case.empty() ? "(none started)" : s.test_case);
    if (!s.section.empty()) out << ", section: " << s.section;
    out << "\nwatchdog: waiting on " << (s.steps.empty() ? "no named step" : "these steps, oldest first") << ":\n";
    for (const auto& st : s.steps)
      out << "  - " << st.what << " (for " << std::chrono::duration_cast<std::chrono::seconds>(now - st.since).count()
          << " s)\n";
    if (!s.children.empty()) out << "watchdog: killed " << s.children.size() << " child process(es):";
    for (const auto& [pid, name] : s.children) {
      ::kill(pid, SIGKILL);
      out << " " << name << " (pid " << pid << ")";
    }
    if (!s.children.empty()) out << "\n";
  }
  const std::string text = out.str();
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
  std::fflush(stdout);
  std::_Exit(124);
}

/// std::terminate (an exception left a thread, or a noexcept function): says which exception
/// and which test, and kills the services the test started, so they do not outlive it.
[[noreturn]] void on_terminate() {
  std::string what = "no active exception";
  if (const auto e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what = x.what();
    } catch (...) {
      what = "an exception of unknown type";
    }
  }
  auto& s = shared();
  std::ostringstream out;
  out << "\nterminate: " << what;
  if (s.mutex.try_lock()) {  // not if this thread died holding it
    out << "; test case: " << (s.test_case.empty() ? "(none started)" : s.test_case);
    if (!s.children.empty()) out << "; killed " << s.children.size() << " child process(es):";
    for (const auto& [pid, name] : s.children) {
      ::kill(pid, SIGKILL);
      out << " " << name << " (pid " << pid << ")";
    }
    s.mutex.unlock();
  }
  out << "\n";
  const std::string text = out.str();
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace

step::step(std::string what) {
  auto& s = shared();
  std::lock_guard lock(s.mutex);
  it_ = s.steps.insert(s.steps.end(), {std::move(what), std::chrono::steady_clock::now()});
}

step::~step() {
  auto& s = shared();
  std::lock_guard lock(s.mutex);
  s.steps.erase(it_);
}

std::string where(const boost::source_location& at) {
  std::string file = at.file_name();
  if (const auto tests = file.rfind("/tests/"); tests != std::string::npos) file = file.substr(tests + 1);
  return file + ":" + std::to_string(at.line());
}

void set_current_test(const std::string& test_case, const std::string& section) {
  auto& s = shared();
  std::lock_guard lock(s.mutex);
  s.test_case = test_case;
  s.section = section;
}

void register_child(int pid, const std::string& name) {
  auto& s = shared();
  std::lock_guard lock(s.mutex);
  s.children[pid] = name;
}

void forget_child(int pid) {
  auto& s = shared();
  std::lock_guard lock(s.mutex);
  s.children.erase(pid);
}

void start_watchdog() {
  std::set_terminate(on_terminate);
  const char* limit = std::getenv("SPLITVOTE_TEST_TIMEOUT");
  if (!limit) return;
  char* end = nullptr;
  const double timeout = std::strtod(limit, &end);
  if (end == limit || timeout <= 0) return;
  // Early enough that CTest has not killed the process yet: 5 s, or a tenth of a short budget.
  const double seconds = timeout - std::min(5.0, timeout / 10);
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    fire(seconds);
  }).detach();
}

}  // namespace splitvote::testing
