#include "splitvote/pg/scrub.hpp"

namespace splitvote::pg {

std::size_t scrub_tables(pqxx::connection& c, const std::vector<std::string>& tables) {
  std::size_t rows = 0;
  pqxx::work tx(c);
  for (const auto& table : tables) {
    // ACCESS EXCLUSIVE up front (TRUNCATE needs it anyway): no writer slips in between.
    tx.exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
    tx.exec("CREATE TEMP TABLE scrub_rows ON COMMIT DROP AS SELECT * FROM " + table + " ORDER BY gen_random_uuid()");
    tx.exec("TRUNCATE " + table);
    rows += static_cast<std::size_t>(tx.exec("INSERT INTO " + table + " SELECT * FROM scrub_rows").affected_rows());
    tx.exec("DROP TABLE scrub_rows");
  }
  tx.commit();
  return rows;
}

}  // namespace splitvote::pg
