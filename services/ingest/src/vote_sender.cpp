#include "splitvote/ingest/vote_sender.hpp"

#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/ingest/failures.hpp"
#include "splitvote/ingest/problems.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/privacy/ballot_plan.hpp"
#include "splitvote/privacy/randomized_response.hpp"
#include "splitvote/random/random_source.hpp"

#include <atomic>
#include <utility>
#include <vector>

namespace splitvote::ingest {

using clock_type = std::chrono::steady_clock;

namespace {

struct send_metrics {
  prometheus::Histogram& produce_seconds =
      observability::latency_histogram("splitvote_produce_seconds", "Time from produce to delivery report");
  prometheus::Family<prometheus::Counter>& produce_results =
      observability::counter_family("splitvote_produce_total", "Envelopes produced, by outcome");
  prometheus::Gauge& queue =
      observability::gauge("splitvote_producer_queue_messages",
                           "Messages librdkafka holds: queued, in flight, or reported but not yet handled");
  prometheus::Gauge& reserved = observability::gauge(
      "splitvote_reserved_voters", "Actors whose vote this instance sent and the pollbook was not yet seen to hold");
  prometheus::Counter& ballots =
      observability::counter("splitvote_ballots_produced_total", "Ballots (real and decoy) produced");
  prometheus::Counter& bytes =
      observability::counter("splitvote_produced_bytes_total", "Bytes of delivered vote envelopes (value and headers)");
};

send_metrics& metrics() {
  static send_metrics m;
  return m;
}

/// What the ballot half tells the ballotbox about decoys of its own: the poll's m when its
/// creator chose decoys (a crowd that did not form then gets decoys uniform over m), else 0.
std::uint32_t store_decoys_over(const catalog::poll& p) {
  return p.privacy.decoys.distribution == privacy::decoy_distribution::none
             ? 0
             : static_cast<std::uint32_t>(p.choices.size());
}

}  // namespace

vote_sender::vote_sender(vote_sender_options options, store_reader& stores, envelope_sink& sink)
    : options_(std::move(options)),
      stores_(stores),
      sink_(sink),
      recent_(std::make_shared<recent_voters>(options_.reservation_max_age)) {
  if (options_.pollbook_key && options_.ballotbox_key) {
    pollbook_sealer_ = std::make_unique<envelope::sealer>(*options_.pollbook_key);
    ballotbox_sealer_ = std::make_unique<envelope::sealer>(*options_.ballotbox_key);
  }
}

void vote_sender::send(std::shared_ptr<const catalog::poll> p, const privacy::actor_key& key, std::uint32_t choice,
                       std::string request_id, std::shared_ptr<answer_once> answer) {
  check_then_send(std::move(p), key, choice, std::move(request_id), std::move(answer), 0);
}

void vote_sender::check_then_send(std::shared_ptr<const catalog::poll> p, const privacy::actor_key& key,
                                  std::uint32_t choice, std::string request_id, std::shared_ptr<answer_once> answer,
                                  int attempt) {
  // The pollbook lookup is batched with other votes' on the reader's thread; the vote goes on
  // from there. A connection may be gone by then: answering is safe regardless.
  const auto asked = recent_voters::clock::now();
  const std::string poll_id = p->id;
  stores_.has_voted(
      poll_id, key, [this, p, key, choice, answer, request_id, asked, attempt](std::exception_ptr error, bool voted) {
        answer_failures(answer_once::responder(answer), request_id, "vote after the pollbook lookup", [&] {
          if (error) std::rethrow_exception(error);
          if (!voted && !recent_->lookup_current(asked)) {
            // The reservations forgot a vote the pollbook stored after this lookup began: the
            // lookup may have missed it, so ask again (from the reader's thread; it batches).
            if (attempt < 3) return check_then_send(p, key, choice, request_id, answer, attempt + 1);
            throw problems::unavailable("the vote could not be checked; it was not counted, try again");
          }
          if (voted) throw problems::already_voted();
          produce(*p, key, choice, request_id, answer);
        });
      });
}

void vote_sender::produce(const catalog::poll& p, const privacy::actor_key& key, std::uint32_t choice,
                          const std::string& request_id, const std::shared_ptr<answer_once>& answer) {
  // The point of no return: past it the vote goes to Kafka and only its delivery (or the
  // delivery deadline) answers. The request deadline answered first: the client was told the
  // vote was not counted, so it is not sent.
  if (!answer->commit()) return;
  if (!recent_->reserve(key)) throw problems::already_voted();

  envelope::actor_part actor{key, random::random_id(random::thread_source())};
  // Randomized response happens here, before anything about the choice leaves this function.
  const auto m = static_cast<std::uint32_t>(p.choices.size());
  const auto submitted = privacy::apply_randomized_response(choice, m, p.privacy.rr, random::thread_source());
  const auto ballots = envelope::make_ballots(
      privacy::plan_ballots(submitted, m, p.privacy.decoys, random::thread_source()), random::thread_source());
  const std::string message = seal_and_encode(
      {p.id, envelope::encode(actor), envelope::encode(ballots, false, store_decoys_over(p)), envelope::sealing::none},
      p);
  const auto started = clock_type::now();
  const std::size_t ballot_count = ballots.size();
  const kafka::producer::headers headers{{"x-request-id", request_id}};
  std::size_t message_bytes = message.size();
  for (const auto& [name, value] : headers) message_bytes += name.size() + value.size();
  // Answered once: by the delivery report, or by the deadline if Kafka is slower. librdkafka
  // has no message timeout of its own here: a timeout would fail a message that may still be
  // written, and makes the idempotent producer bump its epoch (docs/reliability.md). So it
  // keeps trying, and the client hears "outcome unknown" at the deadline.
  const auto outcome = sink_.send(
      message, headers,
      [recent = recent_, key, started, ballot_count, message_bytes, answer, request_id,
       poll_id = p.id](const kafka::producer::delivery& d) {
        metrics().produce_seconds.Observe(std::chrono::duration<double>(clock_type::now() - started).count());
        const auto respond = answer->take();
        const bool late = !respond;
        if (d.error) {
          metrics().produce_results.Add({{"outcome", d.possibly_persisted ? "unknown" : "failed"}}).Increment();
          observability::log_warn("produce_failed", {{"request_id", request_id},
                                                     {"error", *d.error},
                                                     {"possibly_persisted", d.possibly_persisted},
                                                     {"after_deadline", late}});
          if (late) return;  // the client was told the outcome is unknown; the actor stays reserved
          // The broker may have it: a retry could count twice, so the actor stays reserved
          // (a retry gets 409) and the answer says the outcome is unknown.
          if (d.possibly_persisted) return respond(http::to_response(problems::outcome_unknown()));
          recent->release(key);
          return respond(http::to_response(
              problems::unavailable("the vote could not be recorded; it was not counted, try again")));
        }
        recent->delivered(key, d.partition, d.offset);
        metrics().produce_results.Add({{"outcome", late ? "delivered_after_deadline" : "delivered"}}).Increment();
        metrics().ballots.Increment(static_cast<double>(ballot_count));
        metrics().bytes.Increment(static_cast<double>(message_bytes));
        if (!late) respond(http::json(202, {{"status", "accepted"}, {"poll_id", poll_id}}));
      });
  if (outcome != kafka::producer::enqueue::queued) {
    // Nothing reached librdkafka: the actor is free to try again, here or elsewhere.
    recent_->release(key);
    const bool full = outcome == kafka::producer::enqueue::queue_full;
    metrics().produce_results.Add({{"outcome", full ? "queue_full" : "failed"}}).Increment();
    // The operator's hint goes to the log (once; the metric counts them all), the client
    // hears only that it may try again.
    static std::atomic<bool> hinted{false};
    if (full && !hinted.exchange(true))
      observability::log_warn(
          "producer_queue_full",
          {{"request_id", request_id}, {"hint", "raise kafka.queue_max_messages / kafka.queue_max_kbytes"}});
    throw problems::unavailable(full ? "the vote queue is full; the vote was not counted, try again"
                                     : "Kafka refused the vote; it was not counted, try again");
  }
  {
    std::lock_guard lock(activity_mutex_);
    last_vote_[p.id] = clock_type::now();
  }
  deadlines_.after(options_.answer_deadline, [answer] {
    const auto respond = answer->take();
    if (!respond) return;
    metrics().produce_results.Add({{"outcome", "unknown"}}).Increment();
    respond(http::to_response(problems::outcome_unknown()));
  });
}

std::string vote_sender::seal_and_encode(envelope::envelope env, const catalog::poll& p) const {
  if (pollbook_sealer_ && ballotbox_sealer_) {
    const auto block =
        envelope::ballot_half_block(1 + p.privacy.decoys.max_count(), static_cast<std::uint32_t>(p.choices.size()));
    env.actor_part = pollbook_sealer_->seal(envelope::pad(env.actor_part, 1));
    env.ballot_list = ballotbox_sealer_->seal(envelope::pad(env.ballot_list, block));
    env.sealed = envelope::sealing::shared_key_padded;
  }
  return envelope::encode(env);
}

int vote_sender::send_cover_envelopes(
    std::chrono::milliseconds idle,
    const std::function<std::shared_ptr<const catalog::poll>(const std::string&)>& poll_of) {
  std::vector<std::string> due;
  {
    std::lock_guard lock(activity_mutex_);
    const auto now = clock_type::now();
    for (auto it = last_vote_.begin(); it != last_vote_.end();) {
      if (now - it->second > std::chrono::hours(1)) {
        it = last_vote_.erase(it);
        continue;
      }
      if (now - it->second >= idle) due.push_back(it->first);
      ++it;
    }
  }
  int sent = 0;
  for (const auto& id : due) {
    const auto p = poll_of(id);
    if (p->is_closed(std::chrono::system_clock::now())) continue;
    // Shaped like a vote: a random actor key and the same number of ballots a vote brings.
    envelope::actor_part actor;
    random::thread_source().fill(actor.actor_key);
    actor.entry_id = random::random_id(random::thread_source());
    actor.cover = true;
    const auto m = static_cast<std::uint32_t>(p->choices.size());
    const auto choices = privacy::plan_ballots(static_cast<std::uint32_t>(random::thread_source().uniform(m)), m,
                                               p->privacy.decoys, random::thread_source());
    const std::string message = seal_and_encode(
        {p->id, envelope::encode(actor),
         envelope::encode(envelope::make_ballots(choices, random::thread_source()), true, store_decoys_over(*p)),
         envelope::sealing::none},
        *p);
    // The same header as a vote's (a request id of the shape ingest generates) and the same
    // metric outcomes: neither the topic's headers nor /metrics tell a cover from a vote.
    const kafka::producer::headers headers{
        {"x-request-id", random::to_hex(random::random_id(random::thread_source()))}};
    if (sink_.send(message, headers, [](const kafka::producer::delivery& d) {
          metrics().produce_results.Add({{"outcome", d.error ? "failed" : "delivered"}}).Increment();
        }) == kafka::producer::enqueue::queued)
      ++sent;
  }
  return sent;
}

std::size_t vote_sender::forget_stored_voters() {
  const auto at = sink_.read_positions(false, options_.kafka_read_budget);
  if (at.highs.empty()) return recent_->forget_expired(recent_voters::clock::now());
  return recent_->forget_stored(at.pollbook, recent_voters::clock::now());
}

void vote_sender::forget_expired_seal_keys() {
  if (pollbook_sealer_) pollbook_sealer_->forget_expired();
  if (ballotbox_sealer_) ballotbox_sealer_->forget_expired();
}

void vote_sender::update_gauges() {
  metrics().queue.Set(static_cast<double>(sink_.queued()));
  metrics().reserved.Set(static_cast<double>(recent_->size()));
}

}  // namespace splitvote::ingest
