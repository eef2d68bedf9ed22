// splitvote-migrate: the one-shot schema step; safe to run twice or concurrently.
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/catalog/schema.hpp"
#include "splitvote/config/settings.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pollbook/schema.hpp"

#include <iostream>

using namespace splitvote;

int main(int argc, char** argv) {
  try {
    // Each schema is optional so one cluster at a time can be migrated.
    const auto cfg = config::settings::load(
        {{"catalog.dsn", "DSN of the catalog schema (empty: skip)", "", true},
         {"pollbook.dsn", "DSN of the pollbook schema (empty: skip)", "", true},
         {"ballotbox.dsn", "DSN of the ballotbox schema (empty: skip)", "", true},
         {"db.statement_timeout_ms", "the server cancels any migration statement that runs longer", "300000"}},
        config::config_path_from(argc, argv));
    const pg::session_limits limits{std::chrono::milliseconds(cfg.integer("db.statement_timeout_ms", 1, 86400000))};
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
    if (migrated == 0) {
      std::cerr << "splitvote-migrate: nothing to do: set catalog.dsn, pollbook.dsn and/or ballotbox.dsn\n";
      return 2;
    }
    return 0;
  } catch (const config::error& e) {
    std::cerr << "splitvote-migrate: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "splitvote-migrate: " << e.what() << "\n";
    return 1;
  }
}
