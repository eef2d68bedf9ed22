#include "splitvote/consumer/batch_consumer.hpp"

#include "splitvote/consumer/position.hpp"

#include "splitvote/kafka/consumer.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/observability/metrics.hpp"
#include "splitvote/pg/offset_store.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/pg/scrub.hpp"

#include <algorithm>
#include <set>
#include <thread>

namespace splitvote::consumer {

using namespace std::chrono_literals;
using observability::log_error;
using observability::log_info;
using observability::log_warn;
using clock_type = std::chrono::steady_clock;

namespace {

struct metrics {
  explicit metrics(const std::string& name) {
    const prometheus::Labels labels{{"consumer", name}};
    batch_size = &observability::histogram_family("splitvote_consumer_batch_envelopes", "Envelopes per committed batch")
                      .Add(labels, prometheus::Histogram::BucketBoundaries{1, 10, 50, 100, 250, 500, 1000, 2500, 5000});
    commit_seconds =
        &observability::histogram_family("splitvote_consumer_commit_seconds", "Time to write and commit one batch")
             .Add(labels, observability::latency_buckets());
    envelopes = &observability::counter_family("splitvote_consumer_envelopes_total", "Envelopes stored").Add(labels);
    rows = &observability::counter_family("splitvote_consumer_rows_total", "Rows written").Add(labels);
    skipped = &observability::counter_family("splitvote_consumer_skipped_total",
                                             "Messages that did not decode and were skipped")
                   .Add(labels);
    lag = &observability::gauge_family("splitvote_consumer_lag_messages",
                                       "Messages on the topic not yet stored by this instance's partitions")
               .Add(labels);
  }
  prometheus::Histogram* batch_size;
  prometheus::Histogram* commit_seconds;
  prometheus::Counter* envelopes;
  prometheus::Counter* rows;
  prometheus::Counter* skipped;
  prometheus::Gauge* lag;
};

}  // namespace

struct batch_consumer::impl {
  // For the probes (other threads): see health.
  std::atomic<bool> joined{false}, database_ok{false}, stopping{false};
  std::atomic<clock_type::rep> progress_at{clock_type::now().time_since_epoch().count()};
  void progress() { progress_at = clock_type::now().time_since_epoch().count(); }

  impl(options o, sink& s)
      : opts(std::move(o)),
        target(s),
        rng(random::system_source()),
        held(opts.mixing, *rng),
        offsets(opts.schema),
        stats(opts.name) {
    opts.kafka["enable.partition.eof"] = "true";
    kafka_consumer = std::make_unique<kafka::consumer>(
        opts.kafka, [this](const auto& parts) { return on_assign(parts); },
        [this](const auto& parts) { on_revoke(parts); });
  }

  /// What the mixer and the next transaction hold are librdkafka messages: they go before the
  /// consumer handle does (members die in reverse order, and `held` is declared first). After
  /// an exception the mixer was still full when the handle went, and freeing its messages
  /// then aborted the process ("double free", seen in faults.commit-errors).
  ~impl() {
    pending.clear();
    held.clear();
  }

  options opts;
  sink& target;
  std::unique_ptr<random::random_source> rng;
  struct item {
    kafka::message message;
    std::unique_ptr<decoded> content;
  };
  mixer<item> held;  // per poll, until due
  pg::offset_store offsets;
  metrics stats;
  std::unique_ptr<kafka::consumer> kafka_consumer;
  std::unique_ptr<pqxx::connection> db;
  std::string cluster;
  const std::atomic<bool>* stop = nullptr;

  struct partition_state {
    pg::stored_offset row;           // as stored: the fence for the next write
    std::int64_t written_below = 0;  // the stored position's start: all below it is written
    std::int64_t next = 0;           // one past the last message taken
    std::set<std::int64_t> replay;   // offsets below `next` the stored position still holds
    bool at_end = false;
  };
  std::map<int, partition_state> assigned;
  std::vector<item> pending;  // due, for the next transaction
  clock_type::time_point first_pending{};
  std::size_t threshold = 0;
  clock_type::time_point last_due_check{};
  clock_type::time_point last_kafka_commit = clock_type::now();

  pqxx::connection& database() {
    if (!db || !db->is_open()) db = pg::connect(opts.dsn, opts.limits);
    return *db;
  }

  void draw_threshold() { threshold = opts.min_batch + rng->uniform(opts.max_batch - opts.min_batch + 1); }

  template <typename F>
  auto with_retry(const char* what, F&& f) {
    auto backoff = 200ms;
    for (;;) {
      try {
        auto result = f();
        database_ok = true;
        return result;
      } catch (const std::exception& e) {
        db.reset();
        database_ok = false;
        progress();  // waiting for the database is progress of a kind: not a hang
        if (stop && stop->load()) throw;
        log_warn("database_retry", {{"consumer", opts.name}, {"during", what}, {"error", e.what()}});
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
  }

  /// The partition's state from its stored row. A position no key of ours opens (the
  /// consumer's key was replaced, not rotated) starts the partition over: what was written
  /// is absorbed by the random keys, and the error says so.
  partition_state state_of(int partition, pg::stored_offset row) {
    position p;
    if (row.position.empty()) {
      p.next = std::max<std::int64_t>(0, row.plain_next);
    } else {
      try {
        p = open_position(row.position, opts.position_keys);
      } catch (const std::exception& e) {
        log_error("position_unreadable", {{"consumer", opts.name}, {"partition", partition}, {"error", e.what()}});
      }
    }
    partition_state st;
    st.row = std::move(row);
    st.written_below = p.start();
    st.next = p.next;
    st.replay.insert(p.held.begin(), p.held.end());
    return st;
  }

  pg::stored_offset load_row(int partition) {
    return with_retry("load offsets", [&] { return offsets.load(database(), opts.topic, partition, cluster); });
  }

  std::vector<kafka::partition_offset> on_assign(const std::vector<kafka::partition_offset>& parts) {
    std::vector<kafka::partition_offset> starts;
    for (const auto& p : parts) {
      auto& st = assigned[p.partition] = state_of(p.partition, load_row(p.partition));
      starts.push_back({p.topic, p.partition, st.written_below});
    }
    boost::json::array described;
    for (const auto& s : starts) described.push_back(boost::json::array{s.partition, s.offset});
    log_info("partitions_assigned", {{"consumer", opts.name}, {"partitions", described}});
    joined = true;
    return starts;
  }

  void on_revoke(const std::vector<kafka::partition_offset>& parts) {
    // Still ours during the callback: store what we have so the next owner need not re-read it.
    try {
      flush();
    } catch (const std::exception& e) {
      log_warn("flush_on_revoke_failed", {{"consumer", opts.name}, {"error", e.what()}});
    }
    pending.clear();
    held.clear();  // never written: the next owner reads them again from the stored position
    assigned.clear();
    joined = false;
    log_info("partitions_revoked", {{"consumer", opts.name}, {"count", parts.size()}});
  }

  /// Re-reads the stored positions after a write whose outcome we cannot trust.
  void resync() {
    pending.clear();
    held.clear();
    std::vector<kafka::partition_offset> positions;
    for (auto& [partition, st] : assigned) {
      st = state_of(partition, load_row(partition));
      positions.push_back({opts.topic, partition, st.written_below});
    }
    if (positions.empty()) return;
    for (int attempt = 1;; ++attempt) {
      try {
        kafka_consumer->seek(positions);
        return;
      } catch (const kafka::error& e) {
        if (attempt >= 10 || (stop && stop->load())) throw;
        log_warn("seek_retry", {{"consumer", opts.name}, {"error", e.what()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
      }
    }
  }

  /// Writes `pending` and advances the offsets in one transaction. Returns false if the
  /// write was fenced (another instance owns a partition) or its outcome is unknown.
  bool write_pending() {
    std::vector<const decoded*> batch;
    batch.reserve(pending.size());
    std::set<int> touched;
    for (const auto& i : pending) {
      if (!i.content->poll_id.empty()) batch.push_back(i.content.get());
      touched.insert(i.message.partition());
    }
    // Each touched partition's new position: what is written, and what it still holds back
    // (in the mixer, or stored as held and not yet read again since a restart).
    std::map<int, std::pair<std::string, std::int64_t>> next;  // sealed position, its start
    for (const int partition : touched) {
      const auto& st = assigned[partition];
      position p{st.next, held.held_offsets(partition)};
      p.held.insert(p.held.end(), st.replay.begin(), st.replay.end());
      std::sort(p.held.begin(), p.held.end());
      next[partition] = {
          seal_position(p, opts.position_keys.empty() ? std::nullopt : std::optional(opts.position_keys.front())),
          p.start()};
    }
    const auto started = clock_type::now();
    write_stats written;
    bool in_doubt = false;
    {
      pqxx::work tx(database());
      if (!batch.empty()) written = target.write(tx, batch, *rng);
      for (const auto& [partition, to] : next) {
        if (!offsets.advance(tx, opts.topic, partition, cluster, assigned[partition].row, to.first)) {
          tx.abort();
          log_warn("write_fenced", {{"consumer", opts.name}, {"partition", partition}});
          return false;
        }
      }
      try {
        tx.commit();
      } catch (const pqxx::in_doubt_error& e) {
        log_warn("commit_in_doubt", {{"consumer", opts.name}, {"error", e.what()}});
        in_doubt = true;
      }
    }
    if (in_doubt) {
      // Only now, with the transaction gone: destroying the connection under a live
      // pqxx::work made its destructor touch freed memory (a segfault in CI when a session
      // was killed during COMMIT).
      db.reset();
      return false;
    }
    database_ok = true;
    const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    for (const auto& [partition, to] : next) {
      assigned[partition].row = {to.first, -1};
      assigned[partition].written_below = to.second;
    }
    stats.batch_size->Observe(static_cast<double>(pending.size()));
    stats.commit_seconds->Observe(seconds);
    stats.envelopes->Increment(static_cast<double>(written.envelopes));
    stats.rows->Increment(static_cast<double>(written.rows));
    // No counts in the log: a line per batch with its size would be a second record of the
    // batches, beside the database's, that both stores' logs let a thief line up.
    log_info("batch_committed", {{"consumer", opts.name}});
    return true;
  }

  /// Kafka's record of our positions is for lag tooling only (ours are in the database):
  /// committed every kafka_commit_interval, not per batch, so __consumer_offsets does not
  /// keep a second trace of each batch.
  void commit_to_kafka(bool now_anyway) {
    const auto now = clock_type::now();
    if (!now_anyway && now - last_kafka_commit < opts.kafka_commit_interval) return;
    last_kafka_commit = now;
    std::vector<kafka::partition_offset> committed;
    for (const auto& [partition, st] : assigned)
      if (st.written_below > 0) committed.push_back({opts.topic, partition, st.written_below});
    if (!committed.empty()) kafka_consumer->commit_async(committed);
  }

  void flush() {
    if (pending.empty()) return;
    bool done = false;
    auto backoff = 200ms;
    while (!done) {
      try {
        done = write_pending();
        if (!done) {
          resync();
          return;
        }
      } catch (const pqxx::sql_error& e) {
        // A statement failed: nothing was written. Retrying the same batch is the only safe
        // move; the error is logged loudly because it needs an operator.
        db.reset();
        database_ok = false;
        progress();
        log_error("batch_failed", {{"consumer", opts.name}, {"error", e.what()}});
        if (stop && stop->load()) throw;
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      } catch (const pqxx::failure& e) {
        // A broken connection, or any other failure of libpqxx on a session that went away
        // under it (a COPY into a killed session throws a plain failure in libpqxx 6.4): the
        // connection is not to be trusted, nothing was committed; retry on a new one.
        db.reset();
        database_ok = false;
        progress();
        if (stop && stop->load() && draining_expired()) throw;
        log_warn("database_retry", {{"consumer", opts.name}, {"during", "write batch"}, {"error", e.what()}});
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
    pending.clear();
    draw_threshold();
  }

  clock_type::time_point drain_deadline{};
  bool draining_expired() const {
    return drain_deadline != clock_type::time_point{} && clock_type::now() > drain_deadline;
  }

  bool drained() const {
    return std::all_of(assigned.begin(), assigned.end(), [](const auto& kv) { return kv.second.at_end; });
  }

  void update_lag() {
    double total = 0;
    for (const auto& [partition, pos] : assigned) {
      if (const auto high = kafka_consumer->fetched_high_watermark(opts.topic, partition);
          high && *high >= pos.written_below)
        total += static_cast<double>(*high - pos.written_below);
    }
    stats.lag->Set(total);
  }

  clock_type::time_point last_scrub = clock_type::now();

  /// Between batches (this thread owns the connection): rewrite the tables in random order.
  void scrub_if_due() {
    if (opts.scrub_interval.count() == 0 || opts.scrub_tables.empty() || !pending.empty()) return;
    if (clock_type::now() - last_scrub < opts.scrub_interval) return;
    last_scrub = clock_type::now();
    try {
      const auto started = clock_type::now();
      const std::size_t rows = pg::scrub_tables(database(), opts.scrub_tables);
      log_info("scrubbed", {{"consumer", opts.name},
                            {"rows", rows},
                            {"ms", std::chrono::duration<double, std::milli>(clock_type::now() - started).count()}});
    } catch (const std::exception& e) {
      db.reset();
      log_warn("scrub_failed", {{"consumer", opts.name}, {"error", e.what()}});
    }
  }

  clock_type::time_point last_db_check = clock_type::now();

  /// A quiet consumer writes nothing, so it pings: readiness follows the database anyway.
  void check_database_if_idle(clock_type::time_point now) {
    if (!pending.empty() || now - last_db_check < 5s) return;
    last_db_check = now;
    try {
      pqxx::nontransaction(database()).exec("SELECT 1");
      database_ok = true;
    } catch (const std::exception& e) {
      db.reset();
      // Once per outage: the log says why readiness turned 503 while nothing was written.
      if (database_ok.exchange(false))
        log_warn("database_retry", {{"consumer", opts.name}, {"during", "idle check"}, {"error", e.what()}});
    }
  }

  void take(kafka::message m) {
    if (m.partition_end()) {
      if (auto it = assigned.find(m.partition()); it != assigned.end()) it->second.at_end = true;
      return;
    }
    if (const auto failure = m.error()) {
      log_warn("kafka_event", {{"consumer", opts.name}, {"error", *failure}});
      return;
    }
    auto it = assigned.find(m.partition());
    if (it == assigned.end()) return;  // not ours
    auto& st = it->second;
    if (m.offset() < st.next) {
      if (st.replay.erase(m.offset()) == 0) return;  // written before, or taken already
    } else {
      st.next = m.offset() + 1;
    }
    st.at_end = false;
    auto content = target.decode(m.value());
    if (content->poll_id.empty()) stats.skipped->Increment();
    const mix_key key{m.partition(), m.offset(), content->poll_id, content->real};
    if (held.add(key, item{std::move(m), std::move(content)}, clock_type::now())) move_due(clock_type::now());
  }

  /// Moves the polls that are due from the mixer into the next transaction.
  void move_due(clock_type::time_point now) {
    last_due_check = now;
    auto due = held.take_due(now, [](item& i, std::size_t missing) { i.content->crowd_shortfall = missing; });
    if (due.empty()) return;
    if (pending.empty()) first_pending = now;
    for (auto& i : due) pending.push_back(std::move(i));
  }

  void run(const std::atomic<bool>& stop_flag) {
    stop = &stop_flag;
    cluster = kafka_consumer->cluster_id(10s);
    log_info("consumer_started", {{"consumer", opts.name}, {"cluster_id", cluster}, {"topic", opts.topic}});
    draw_threshold();
    kafka_consumer->subscribe(opts.topic);
    auto last_lag = clock_type::now();
    for (;;) {
      progress();
      if (stop_flag.load() && drain_deadline == clock_type::time_point{}) {
        stopping = true;
        drain_deadline = clock_type::now() + opts.drain_timeout;
        log_info("draining", {{"consumer", opts.name}});
      }
      if (drain_deadline != clock_type::time_point{} && (drained() || draining_expired())) break;
      if (auto m = kafka_consumer->poll(50ms)) take(std::move(*m));
      const auto now = clock_type::now();
      if (now - last_due_check >= 100ms) move_due(now);  // the polls whose wait is over
      if (pending.size() >= threshold || (!pending.empty() && now - first_pending >= opts.max_delay)) flush();
      commit_to_kafka(false);
      scrub_if_due();
      if (now - last_lag > 1s) {
        update_lag();
        last_lag = now;
        check_database_if_idle(now);
      }
    }
    // What is due is written; what still waits for its crowd is not: the stored position
    // stays before it and the next owner reads it again.
    move_due(clock_type::now());
    flush();
    commit_to_kafka(true);
    log_info("consumer_stopped",
             {{"consumer", opts.name}, {"drained", drained()}, {"left_for_next_owner", held.held()}});
    kafka_consumer->close();
  }
};

batch_consumer::batch_consumer(options opts, sink& s) : impl_(std::make_unique<impl>(std::move(opts), s)) {
  if (impl_->opts.min_batch < 1 || impl_->opts.max_batch < impl_->opts.min_batch)
    throw std::invalid_argument("batch sizes: need 1 <= min_batch <= max_batch");
}

batch_consumer::~batch_consumer() = default;

void batch_consumer::run(const std::atomic<bool>& stop) { impl_->run(stop); }

health batch_consumer::status() const {
  const auto& i = *impl_;
  return {i.joined.load(), i.database_ok.load(),
          clock_type::now() - clock_type::time_point(clock_type::duration(i.progress_at.load())), i.stopping.load()};
}

}  // namespace splitvote::consumer
