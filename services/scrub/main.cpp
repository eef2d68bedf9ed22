// splitvote-scrub: rewrite the pollbook's and ballotbox's tables in random order, now (the
// consumers also do it on schedule, scrub.interval_ms). Safe while the consumers write.
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/config/settings.hpp"
#include "splitvote/config/shared_keys.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pg/scrub.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/runtime/program.hpp"

#include <iostream>

using namespace splitvote;

int main(int argc, char** argv) {
  return runtime::run_main("splitvote-scrub", [&] {
    const auto cfg = config::settings::load(
        {config::optional_dsn("pollbook"), config::optional_dsn("ballotbox"),
         config::statement_timeout("the server cancels any statement of the rewrite that runs longer", 300000)},
        config::config_path_from(argc, argv));
    const pg::session_limits limits{cfg.millis("db.statement_timeout_ms")};
    int done = 0;
    for (const auto& [key, tables] : {std::pair{"pollbook.dsn", pollbook::scrubbed_tables()},
                                      std::pair{"ballotbox.dsn", ballotbox::scrubbed_tables()}}) {
      if (cfg.str(key).empty()) continue;
      auto c = pg::connect(cfg.str(key), limits);
      std::cout << "splitvote-scrub: " << key << ": " << pg::scrub_tables(*c, tables) << " rows rewritten\n";
      ++done;
    }
    if (done == 0) throw config::error("nothing to do: set pollbook.dsn and/or ballotbox.dsn");
    return 0;
  });
}
