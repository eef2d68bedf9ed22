// The log scan behind security.logs: recorded secrets and votes against every line the services wrote.
#pragma once

#include "splitvote/testing/recordings.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::testing {

/// Secrets shorter than this are not looked for: a short one ("Bearer x" in a 401 test) would
/// match ordinary text, and the secrets the system hands out are far longer.
inline constexpr std::size_t min_secret_length = 12;

struct finding {
  std::filesystem::path file;
  std::size_t line = 0;  // 1-based
  std::string rule;      // "secret", "vote", "key"
  std::string what;      // what matched; a secret redacted (see redacted())
};

struct scan_result {
  std::size_t files = 0;
  std::size_t lines = 0;
  std::size_t secrets = 0;  // distinct secrets looked for (at least min_secret_length)
  std::size_t votes = 0;    // distinct (actor, choice) pairs looked for
  std::vector<std::filesystem::path> unreadable;
  std::vector<finding> findings;
};

/// Fit for a report: the first 6 characters and the length ("7f3a9c… (64 chars)").
std::string redacted(std::string_view secret);

/// Every line against three rules (the comments in log_scan.cpp say how each matches):
///  - secret: the line contains a recorded secret of at least min_secret_length bytes;
///  - vote: the line names a recorded actor and that same vote's choice label;
///  - key: the line has a key that names an actor, a choice or a token.
class log_scanner {
public:
  explicit log_scanner(const recordings& r);
  ~log_scanner();
  log_scanner(const log_scanner&) = delete;
  log_scanner& operator=(const log_scanner&) = delete;

  /// The rules one line breaks (file and line left empty); none for a clean line.
  std::vector<finding> check(std::string_view line) const;
  /// Every line of every file; a file that cannot be opened is listed as unreadable.
  scan_result scan(const std::vector<std::filesystem::path>& files) const;

private:
  struct index;
  std::unique_ptr<const index> index_;
};

}  // namespace splitvote::testing
