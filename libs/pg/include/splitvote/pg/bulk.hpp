// The bulk write path: COPY rows into a per-transaction staging table, then INSERT … SELECT.
#pragma once

#include <pqxx/pqxx>

#include <cstddef>
#include <string>
#include <vector>

namespace splitvote::pg {

/// COPY has no ON CONFLICT, so rows go to the temporary table `staging` (created once per
/// connection with `columns`, emptied at commit) and `insert_sql` moves them on, typically
/// with ON CONFLICT DO NOTHING. Rows keep their order. Returns the rows `insert_sql` affected.
template <typename Row>
std::size_t copy_then_insert(pqxx::work& tx, const std::string& staging, const std::string& columns,
                             const std::vector<Row>& rows, const std::string& insert_sql) {
  tx.exec("CREATE TEMP TABLE IF NOT EXISTS " + staging + " (" + columns + ") ON COMMIT DELETE ROWS");
  pqxx::stream_to stream(tx, staging);
  for (const auto& r : rows) stream << r;
  stream.complete();
  return static_cast<std::size_t>(tx.exec(insert_sql).affected_rows());
}

}  // namespace splitvote::pg
