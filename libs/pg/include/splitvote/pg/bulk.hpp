// The bulk write path: COPY rows into a per-transaction staging table, then INSERT … SELECT.
#pragma once

#include <pqxx/pqxx>

#include <cstddef>
#include <string>
#include <vector>

namespace splitvote::pg {

/// COPY has no ON CONFLICT, so rows go to the temporary table `staging` (created once per
/// connection with `columns`, emptied at commit) and `sql` moves them on, typically with
/// INSERT … ON CONFLICT DO NOTHING. Rows keep their order. Returns `sql`'s result.
template <typename Row>
pqxx::result copy_then_query(pqxx::work& tx, const std::string& staging, const std::string& columns,
                             const std::vector<Row>& rows, const std::string& sql) {
  tx.exec("CREATE TEMP TABLE IF NOT EXISTS " + staging + " (" + columns + ") ON COMMIT DELETE ROWS");
  pqxx::stream_to stream(tx, staging);
  for (const auto& r : rows) stream << r;
  stream.complete();
  return tx.exec(sql);
}

/// copy_then_query for an INSERT: returns the rows it inserted.
template <typename Row>
std::size_t copy_then_insert(pqxx::work& tx, const std::string& staging, const std::string& columns,
                             const std::vector<Row>& rows, const std::string& insert_sql) {
  return static_cast<std::size_t>(copy_then_query(tx, staging, columns, rows, insert_sql).affected_rows());
}

}  // namespace splitvote::pg
