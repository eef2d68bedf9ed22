// security.logs: no log line written during the test run holds a secret or an actor next to its choice.
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/log_scan.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iostream>

using namespace splitvote::testing;

namespace {

/// Fewer than these and the scan proves nothing: it ran alone, or the services logged nowhere
/// it looks. Run through CTest, the fixture service_logs brings every service-starting test
/// first, which writes far more (a full run: about 240 files, 23 000 lines, 110 secrets and
/// 6 500 actor/choice pairs).
constexpr std::size_t min_files = 20, min_lines = 1000, min_secrets = 10, min_votes = 10;

/// The services' and tools' output (*.log), server.supervise's server.out (left only when it
/// fails) and the /metrics scrapes e2e.observability saves (label values must hold no secret).
bool is_log(const std::filesystem::path& p) {
  const auto ext = p.extension();
  return ext == ".log" || ext == ".out" || ext == ".metrics";
}

/// The log files under `roots` written since the run started (the marker e2e.reset_recordings
/// touches): the services' and the dev broker's under test-tmp, PostgreSQL's under test-pg.
std::vector<std::filesystem::path> this_runs_logs(const std::vector<std::filesystem::path>& roots,
                                                  std::filesystem::file_time_type since) {
  std::vector<std::filesystem::path> out;
  for (const auto& root : roots) {
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator
             it(root, std::filesystem::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      std::error_code time_ec;
      if (it->is_regular_file() && is_log(it->path()) && it->last_write_time(time_ec) >= since && !time_ec)
        out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("no secret or actor/choice pair in any log line written during the test run", "[security][logs]") {
  const std::filesystem::path tmp = setting("SPLITVOTE_TEST_TMP", SPLITVOTE_TEST_TMP);
  const std::filesystem::path pg =
      std::filesystem::path(setting("SPLITVOTE_TEST_PG_ENV", SPLITVOTE_TEST_PG_ENV)).parent_path();
  const auto marker = tmp / "recordings.started";
  std::error_code ec;
  const auto since = std::filesystem::last_write_time(marker, ec);
  if (ec) FAIL("no " << marker << ": run through CTest (e2e.reset_recordings writes it)");

  const auto recorded = read_recordings(recordings_path());
  const auto files = this_runs_logs({tmp, pg}, since);
  const auto result = log_scanner(recorded).scan(files);

  std::cout << "security.logs: " << result.files << " files, " << result.lines << " lines, " << result.secrets
            << " secrets, " << result.votes << " actor/choice pairs, " << result.findings.size() << " findings\n";
  constexpr std::size_t shown = 50;
  for (std::size_t i = 0; i < result.findings.size() && i < shown; ++i) {
    const auto& f = result.findings[i];
    std::cout << "  " << std::filesystem::relative(f.file, tmp.parent_path()).string() << ":" << f.line << ": "
              << f.rule << ": " << f.what << "\n";
  }
  if (result.findings.size() > shown) std::cout << "  ... and " << result.findings.size() - shown << " more\n";
  for (const auto& f : result.unreadable) std::cout << "  unreadable: " << f.string() << "\n";

  CHECK(result.unreadable.empty());
  CHECK(result.files >= min_files);
  CHECK(result.lines >= min_lines);
  CHECK(result.secrets >= min_secrets);
  CHECK(result.votes >= min_votes);
  CHECK(result.findings.empty());
}
