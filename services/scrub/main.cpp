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
         {"ballotbox.dsn", "DSN of the ballotbox schema (empty: skip)", "", true}},
        config::config_path_from(argc, argv));
    int done = 0;
    for (const auto& [key, tables] : {std::pair{"pollbook.dsn", pollbook::scrubbed_tables()},
                                      std::pair{"ballotbox.dsn", ballotbox::scrubbed_tables()}}) {
      if (cfg.str(key).empty()) continue;
      auto c = pg::connect(cfg.str(key));
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
