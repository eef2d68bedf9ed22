// splitvote-migrate: the one-shot schema step; safe to run twice or concurrently.
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/catalog/schema.hpp"
#include "splitvote/config/settings.hpp"
#include "splitvote/config/shared_keys.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/runtime/program.hpp"

#include <iostream>

using namespace splitvote;

int main(int argc, char** argv) {
  return runtime::run_main("splitvote-migrate", [&] {
    // Each schema is optional so one cluster at a time can be migrated.
    const auto cfg = config::settings::load(
        {config::optional_dsn("catalog"), config::optional_dsn("pollbook"), config::optional_dsn("ballotbox"),
         config::statement_timeout("the server cancels any migration statement that runs longer", 300000)},
        config::config_path_from(argc, argv));
    const pg::session_limits limits{cfg.millis("db.statement_timeout_ms")};
    const struct {
      const char* key;
      const char* schema;
      const std::vector<pg::migration>& migrations;
    } targets[] = {{"catalog.dsn", catalog::schema_name, catalog::migrations()},
                   {"pollbook.dsn", pollbook::schema_name, pollbook::migrations()},
                   {"ballotbox.dsn", ballotbox::schema_name, ballotbox::migrations()}};
    int migrated = 0;
    for (const auto& t : targets) {
      if (cfg.str(t.key).empty()) continue;
      auto c = pg::connect(cfg.str(t.key), limits);
      const int applied = pg::apply_migrations(*c, t.schema, t.migrations);
      std::cout << "splitvote-migrate: " << t.schema << " at version " << pg::schema_version(*c, t.schema) << " ("
                << applied << " applied)\n";
      ++migrated;
    }
    if (migrated == 0) throw config::error("nothing to do: set catalog.dsn, pollbook.dsn and/or ballotbox.dsn");
    return 0;
  });
}
