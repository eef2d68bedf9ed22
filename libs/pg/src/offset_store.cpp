#include "splitvote/pg/offset_store.hpp"

namespace splitvote::pg {

offset_store::offset_store(std::string schema)
    : table_(schema + ".consumer_offsets"), positions_function_(schema + ".offset_positions") {}

std::int64_t offset_store::load(pqxx::connection& c, const std::string& topic, int partition,
                                const std::string& cluster_id) const {
  pqxx::work tx(c);
  tx.exec_params("INSERT INTO " + table_ +
                     " (topic, partition, cluster_id, next_offset) VALUES ($1, $2, $3, 0)"
                     " ON CONFLICT (topic, partition) DO NOTHING",
                 topic, partition, cluster_id);
  // Offsets of another cluster mean nothing here: that topic is gone, start this one over.
  tx.exec_params("UPDATE " + table_ +
                     " SET cluster_id = $3, next_offset = 0"
                     " WHERE topic = $1 AND partition = $2 AND cluster_id <> $3",
                 topic, partition, cluster_id);
  const auto r = tx.exec_params(
      "SELECT next_offset FROM " + table_ + " WHERE topic = $1 AND partition = $2", topic,
      partition);
  tx.commit();
  return r[0][0].as<std::int64_t>();
}

bool offset_store::advance(pqxx::transaction_base& tx, const std::string& topic, int partition,
                           const std::string& cluster_id, std::int64_t expected,
                           std::int64_t next) const {
  const auto r = tx.exec_params("UPDATE " + table_ +
                                    " SET next_offset = $5"
                                    " WHERE topic = $1 AND partition = $2 AND cluster_id = $3"
                                    " AND next_offset = $4",
                                topic, partition, cluster_id, expected, next);
  return r.affected_rows() == 1;
}

std::map<int, std::int64_t> offset_store::positions(pqxx::transaction_base& tx, const std::string& topic,
                                                    const std::string& cluster_id) const {
  std::map<int, std::int64_t> out;
  for (const auto& row : tx.exec_params(
           "SELECT partition, next_offset FROM " + positions_function_ + "($1, $2)", topic, cluster_id))
    out[row[0].as<int>()] = row[1].as<std::int64_t>();
  return out;
}

}  // namespace splitvote::pg
