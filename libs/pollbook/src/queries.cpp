#include "splitvote/pollbook/queries.hpp"

#include "splitvote/random/random_source.hpp"

namespace splitvote::pollbook {

participation count_participation(pqxx::transaction_base& tx, const std::string& poll_id) {
  const auto r = tx.exec_params(
      "SELECT submissions, unique_actors FROM pollbook.participation($1::uuid)",
      poll_id);
  return participation{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()};
}

bool has_submitted(pqxx::connection& c, const std::string& poll_id,
                   const std::array<std::byte, 32>& actor_key) {
  pqxx::read_transaction tx(c);
  const auto r = tx.exec_params(
      "SELECT pollbook.has_submitted($1::uuid, decode($2, 'hex'))", poll_id, random::to_hex(actor_key));
  return r[0][0].as<bool>();
}

}  // namespace splitvote::pollbook
