#include "splitvote/pollbook/queries.hpp"

#include "splitvote/random/random_source.hpp"

namespace splitvote::pollbook {

participation count_participation(pqxx::transaction_base& tx, const std::string& poll_id) {
  const auto r = tx.exec_params("SELECT submissions, unique_actors FROM pollbook.participation($1::uuid)", poll_id);
  return participation{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()};
}

std::vector<bool> submitted_among(pqxx::connection& c, const std::string& poll_id,
                                  const std::vector<std::array<std::byte, 32>>& keys) {
  if (keys.empty()) return {};
  std::string array = "{";  // a text[] literal of hex strings (no quoting needed)
  for (const auto& k : keys) {
    if (array.size() > 1) array += ',';
    array += random::to_hex(k);
  }
  array += "}";
  pqxx::nontransaction tx(c);
  const auto r = tx.exec_params(
      "SELECT pollbook.has_submitted($1::uuid, decode(k, 'hex')) FROM unnest($2::text[]) WITH ORDINALITY AS u(k, i)"
      " ORDER BY i",
      poll_id, array);
  std::vector<bool> out;
  out.reserve(keys.size());
  for (const auto& row : r) out.push_back(row[0].as<bool>());
  if (out.size() != keys.size())
    throw std::runtime_error("pollbook: submitted_among answered " + std::to_string(out.size()) + " of " +
                             std::to_string(keys.size()));
  return out;
}

}  // namespace splitvote::pollbook
