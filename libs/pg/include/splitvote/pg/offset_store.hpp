// Kafka positions stored in the consumer's own schema, written in the same transaction as its rows.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <string>

namespace splitvote::pg {

class offset_store {
public:
  /// `schema` holds a consumer_offsets table (consumer_offsets_ddl).
  explicit offset_store(std::string schema);

  /// The next offset to read for a partition of the cluster `cluster_id`. A partition never
  /// seen, or last seen on another cluster (a restarted dev broker), starts at 0.
  std::int64_t load(pqxx::connection& c, const std::string& topic, int partition,
                    const std::string& cluster_id) const;

  /// Moves the partition from `expected` to `next` inside `tx`. False if the stored position
  /// was not `expected` (another consumer owns the partition now): roll back.
  bool advance(pqxx::transaction_base& tx, const std::string& topic, int partition,
               const std::string& cluster_id, std::int64_t expected, std::int64_t next) const;

  /// Every stored partition position of a topic on a cluster (for lag and consistency
  /// reports); positions stored for another cluster are not returned. Reads through the
  /// schema's offset_positions function, so a reader role without table rights may call it.
  std::map<int, std::int64_t> positions(pqxx::transaction_base& tx, const std::string& topic,
                                        const std::string& cluster_id) const;

private:
  std::string table_;
  std::string positions_function_;
};

}  // namespace splitvote::pg
