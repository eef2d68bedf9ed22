#include "splitvote/ballotbox/queries.hpp"

namespace splitvote::ballotbox {

privacy::tally count_ballots(pqxx::transaction_base& tx, const std::string& poll_id, std::size_t num_choices) {
  privacy::tally t;
  t.ballots_per_choice.assign(num_choices, 0);
  for (const auto& row : tx.exec_params("SELECT choice, ballots FROM ballotbox.tally($1::uuid)", poll_id)) {
    const auto choice = row[0].as<std::int64_t>();
    if (choice >= 0 && static_cast<std::size_t>(choice) < num_choices)
      t.ballots_per_choice[static_cast<std::size_t>(choice)] = row[1].as<std::int64_t>();
  }
  t.envelopes = tx.exec_params("SELECT ballotbox.envelopes($1::uuid)", poll_id)[0][0].as<std::int64_t>();
  return t;
}

}  // namespace splitvote::ballotbox
