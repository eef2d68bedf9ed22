// The vote once authenticated: voted already? reserve, randomized response, decoys, seal, Kafka, answer on its ack.
#pragma once

#include "splitvote/catalog/poll.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/envelope/seal.hpp"
#include "splitvote/ingest/answer_once.hpp"
#include "splitvote/ingest/envelope_sink.hpp"
#include "splitvote/ingest/recent_voters.hpp"
#include "splitvote/ingest/store_reader.hpp"
#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/runtime/timers.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace splitvote::ingest {

struct vote_sender_options {
  /// A vote Kafka has not acknowledged within this is answered 503 outcome-unknown; the
  /// producer keeps trying (no local message timeout), so it may still be counted.
  std::chrono::milliseconds answer_deadline{5000};
  /// A reservation the pollbook was never seen to store is dropped after this.
  std::chrono::milliseconds reservation_max_age{std::chrono::minutes(10)};
  /// What one read of the pollbook's committed positions may take (forget_stored_voters).
  std::chrono::milliseconds kafka_read_budget{1000};
  /// When both are set, each half of every envelope is sealed to its consumer.
  std::optional<envelope::public_key> pollbook_key;
  std::optional<envelope::public_key> ballotbox_key;
};

/// Answers each vote once (answer_once): 202 when Kafka has its envelope, a problem when the
/// actor voted already or it could not be sent, 503 outcome-unknown at the answer deadline.
class vote_sender {
public:
  vote_sender(vote_sender_options options, store_reader& stores, envelope_sink& sink);

  /// Sends `choice` (an index into the poll's choices) of the actor `key`: asks the pollbook
  /// whether the actor voted (the answer comes on the reader's thread), then goes on there.
  void send(std::shared_ptr<const catalog::poll> p, const privacy::actor_key& key, std::uint32_t choice,
            std::string request_id, std::shared_ptr<answer_once> answer);

  /// Cover traffic: one cover envelope (decoy ballots, a random actor key, marked as cover
  /// inside the sealed halves) for each open poll that had a vote here within the last hour
  /// but none within `idle`; `poll_of` finds a poll by id. Returns how many were sent.
  int send_cover_envelopes(std::chrono::milliseconds idle,
                           const std::function<std::shared_ptr<const catalog::poll>(const std::string&)>& poll_of);

  /// Reads the pollbook's committed positions and forgets the reserved actors it holds (their
  /// next vote is refused by the pollbook lookup from now on). Returns how many.
  std::size_t forget_stored_voters();
  /// Wipes the sealers' shared keys whose period is over (envelope::sealer::forget_expired).
  void forget_expired_seal_keys();
  /// Sets the producer-queue and reservation gauges (when /metrics is scraped).
  void update_gauges();

private:
  /// Asks again when a reservation was forgotten while the lookup ran (`attempt` counts those).
  void check_then_send(std::shared_ptr<const catalog::poll> p, const privacy::actor_key& key, std::uint32_t choice,
                       std::string request_id, std::shared_ptr<answer_once> answer, int attempt);
  /// Past the lookup: reserve the actor, build and seal the envelope, hand it to Kafka.
  void produce(const catalog::poll& p, const privacy::actor_key& key, std::uint32_t choice,
               const std::string& request_id, const std::shared_ptr<answer_once>& answer);
  /// The message for `env`: with both consumers' keys, each half padded (the ballot half to
  /// one length for every envelope of poll `p`) and sealed to its consumer.
  std::string seal_and_encode(envelope::envelope env, const catalog::poll& p) const;

  vote_sender_options options_;
  store_reader& stores_;
  envelope_sink& sink_;
  std::unique_ptr<envelope::sealer> pollbook_sealer_, ballotbox_sealer_;  // both or neither
  std::shared_ptr<recent_voters> recent_;                                 // shared with delivery reports
  std::mutex activity_mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_vote_;  // poll id -> last vote sent here
  runtime::timers deadlines_;  // answers votes Kafka has not acknowledged in time
};

}  // namespace splitvote::ingest
