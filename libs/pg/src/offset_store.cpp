#include "splitvote/pg/offset_store.hpp"

namespace splitvote::pg {

namespace {

// bytea travels as hex text both ways (libpqxx 6 has no binary parameters).
std::string to_hex(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string from_hex(const std::string& hex) {
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

}  // namespace

offset_store::offset_store(std::string schema) : table_(schema + ".consumer_offsets") {}

stored_offset offset_store::load(pqxx::connection& c, const std::string& topic, int partition,
                                 const std::string& cluster_id) const {
  pqxx::work tx(c);
  tx.exec_params("INSERT INTO " + table_ +
                     " (topic, partition, cluster_id, next_offset) VALUES ($1, $2, $3, 0)"
                     " ON CONFLICT (topic, partition) DO NOTHING",
                 topic, partition, cluster_id);
  // Offsets of another cluster mean nothing here: that topic is gone, start this one over.
  tx.exec_params("UPDATE " + table_ +
                     " SET cluster_id = $3, next_offset = 0, position = NULL"
                     " WHERE topic = $1 AND partition = $2 AND cluster_id <> $3",
                 topic, partition, cluster_id);
  const auto r = tx.exec_params("SELECT coalesce(encode(position, 'hex'), ''), coalesce(next_offset, -1) FROM " +
                                    table_ + " WHERE topic = $1 AND partition = $2",
                                topic, partition);
  tx.commit();
  return {from_hex(r[0][0].as<std::string>()), r[0][1].as<std::int64_t>()};
}

bool offset_store::advance(pqxx::transaction_base& tx, const std::string& topic, int partition,
                           const std::string& cluster_id, const stored_offset& expected,
                           const std::string& position) const {
  const auto r =
      tx.exec_params("UPDATE " + table_ +
                         " SET position = decode($6, 'hex'), next_offset = NULL"
                         " WHERE topic = $1 AND partition = $2 AND cluster_id = $3"
                         " AND position IS NOT DISTINCT FROM decode(nullif($4, ''), 'hex')"
                         " AND next_offset IS NOT DISTINCT FROM nullif($5::bigint, -1)",
                     topic, partition, cluster_id, to_hex(expected.position), expected.plain_next, to_hex(position));
  return r.affected_rows() == 1;
}

}  // namespace splitvote::pg
