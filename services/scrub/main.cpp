// splitvote-scrub: rewrite the pollbook's and ballotbox's tables in random order, now (the
// consumers also do it on schedule, scrub.interval_ms). Safe while the consumers write.
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/config/settings.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pg/scrub.hpp"
#include "splitvote/pollbook/schema.hpp"

#include <iostream>

using namespace splitvote;

int main(int argc, char** argv) {
  try {
    const auto cfg = config::settings::load(
        {{"pollbook.dsn", "DSN of the pollbook schema (empty: skip)", "", true},
         {"ballotbox.dsn", "DSN of the ballotbox schema (empty: skip)", "", true},
         {"db.statement_timeout_ms", "the server cancels any statement of the rewrite that runs longer", "300000"}},
        config::config_path_from(argc, argv));
    const pg::session_limits limits{std::chrono::milliseconds(cfg.integer("db.statement_timeout_ms", 1, 86400000))};
    int done = 0;
    for (const auto& [key, tables] : {std::pair{"pollbook.dsn", pollbook::scrubbed_tables()},
                                      std::pair{"ballotbox.dsn", ballotbox::scrubbed_tables()}}) {
      if (cfg.str(key).empty()) continue;
      auto c = pg::connect(cfg.str(key), limits);
      std::cout << "splitvote-scrub: " << key << ": " << pg::scrub_tables(*c, tables) << " rows rewritten\n";
      ++done;
    }
    if (done == 0) {
      std::cerr << "splitvote-scrub: nothing to do: set pollbook.dsn and/or ballotbox.dsn\n";
      return 2;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "splitvote-scrub: " << e.what() << "\n";
    return 1;
  }
}
