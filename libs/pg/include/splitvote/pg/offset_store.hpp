// Kafka positions stored in the consumer's own schema, written in the same transaction as its rows.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <string>

namespace splitvote::pg {

/// One partition's row. `position` is opaque here (the consumer seals it); rows written
/// before positions were sealed hold a plain `next_offset` instead (-1: none).
struct stored_offset {
  std::string position;          // bytes; empty: none stored
  std::int64_t plain_next = -1;  // a plain next offset (legacy rows and fresh ones: 0)
  bool operator==(const stored_offset&) const = default;
};

class offset_store {
public:
  /// `schema` holds a consumer_offsets table (consumer_offsets_ddl, then sealed_positions_sql).
  explicit offset_store(std::string schema);

  /// What is stored for a partition of the cluster `cluster_id`. A partition never seen, or
  /// last seen on another cluster (a restarted dev broker), comes back as plain offset 0.
  stored_offset load(pqxx::connection& c, const std::string& topic, int partition, const std::string& cluster_id) const;

  /// Replaces the partition's row, if it still holds `expected`, with `position` inside
  /// `tx`. False if it did not (another consumer owns the partition now): roll back.
  bool advance(pqxx::transaction_base& tx, const std::string& topic, int partition, const std::string& cluster_id,
               const stored_offset& expected, const std::string& position) const;

private:
  std::string table_;
};

}  // namespace splitvote::pg
