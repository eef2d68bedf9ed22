// splitvote-bench: the load generator (open or closed loop) with drain timing, and the
// ceiling server (--ceiling). Wires options to src/; see docs/benchmarks.md.
#include "splitvote/bench/ceiling.hpp"
#include "splitvote/bench/drain.hpp"
#include "splitvote/bench/load.hpp"

#include <boost/json.hpp>

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace splitvote::bench;
namespace json = boost::json;

namespace {

constexpr const char* usage = R"(usage:
  splitvote-bench --ceiling [--port P] [--threads N]
      a server answering every request 202 (the ceiling); prints "listening PORT"
  splitvote-bench [options]
      --target HOST:PORT      ingest (or the ceiling), default 127.0.0.1:8080
      --mode open|closed      open: constant arrival rate; closed: as fast as answers come (default)
      --rate R                open loop: votes per second
      --duration S            measured seconds (default 10), after --warmup S (default 2)
      --connections N         keep-alive connections (default 32)
      --threads N             client I/O threads (default 2)
      --poll-body JSON        body of POST /v1/polls (its choices are voted for)
      --polls N               polls to create, votes round-robin over them (default 1)
      --pollbook-dsn DSN      with --ballotbox-dsn: wait until both stores hold every 202
      --ballotbox-dsn DSN
      --drain-timeout S       give up waiting for the stores after S seconds (default 60)
      --watch-pid PID         report this process's peak VmRSS, VmHWM and CPU time during the load
      --label NAME            scenario name, copied into the JSON
      --json FILE             write the results there
      --quiet                 no progress line
)";

/// A mistake on the command line: answered with the usage text.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct cli {
  std::map<std::string, std::string> values;
  bool has(const std::string& k) const { return values.count(k) > 0; }
  std::string str(const std::string& k, const std::string& fallback) const {
    auto it = values.find(k);
    return it == values.end() ? fallback : it->second;
  }
  double number(const std::string& k, double fallback) const {
    auto it = values.find(k);
    if (it == values.end()) return fallback;
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(it->second, &used);
    } catch (const std::exception&) {
      throw usage_error("--" + k + ": not a number: " + it->second);
    }
    if (used != it->second.size()) throw usage_error("--" + k + ": not a number: " + it->second);
    return v;
  }
};

cli parse(int argc, char** argv) {
  static const std::set<std::string> flags{"ceiling", "quiet", "help"};
  cli c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) throw usage_error("unexpected argument: " + a);
    a.erase(0, 2);  // not a = a.substr(2): a false -Wrestrict in GCC 12 at -O3 (GCC bug 105329)
    if (flags.count(a)) {
      c.values[a] = "1";
    } else {
      if (i + 1 >= argc) throw usage_error("--" + a + " needs a value");
      c.values[a] = argv[++i];
    }
  }
  return c;
}

/// A field of /proc/PID/status in KiB, or nothing if the process is gone.
std::optional<std::uint64_t> proc_status_kib(long pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  return std::nullopt;
}

/// CPU seconds (user + system) the process has used so far, from /proc/PID/stat.
std::optional<double> cpu_seconds(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // Fields after the command name (which may hold spaces) start at the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double ms(std::uint64_t us) { return static_cast<double>(us) / 1000.0; }

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  try {
    const auto args = parse(argc, argv);
    if (args.has("help")) {
      std::cout << usage;
      return 0;
    }
    if (args.has("ceiling"))
      return run_ceiling(static_cast<unsigned short>(args.number("port", 0)),
                         static_cast<int>(args.number("threads", 2)));

    static const std::set<std::string> known{
        "target", "mode",         "rate",          "duration",      "warmup",    "connections", "threads", "poll-body",
        "polls",  "pollbook-dsn", "ballotbox-dsn", "drain-timeout", "watch-pid", "label",       "json",    "quiet"};
    for (const auto& [k, v] : args.values)
      if (!known.count(k)) throw usage_error("unknown option --" + k);

    load_options o;
    const auto target = args.str("target", "127.0.0.1:8080");
    const auto colon = target.rfind(':');
    if (colon == std::string::npos) throw usage_error("--target: HOST:PORT");
    o.host = target.substr(0, colon);
    o.port = target.substr(colon + 1);
    const auto mode = args.str("mode", "closed");
    if (mode != "open" && mode != "closed") throw usage_error("--mode: open or closed");
    o.mode = mode == "open" ? loop_mode::open : loop_mode::closed;
    if (o.mode == loop_mode::open && !args.has("rate")) throw usage_error("--mode open needs --rate");
    o.rate = args.number("rate", 0);
    o.duration = std::chrono::milliseconds(static_cast<long>(args.number("duration", 10) * 1000));
    o.warmup = std::chrono::milliseconds(static_cast<long>(args.number("warmup", 2) * 1000));
    o.connections = static_cast<int>(args.number("connections", 32));
    o.threads = static_cast<int>(args.number("threads", 2));
    o.progress = !args.has("quiet");
    // Distinct actors across runs too: the process id and the start time.
    o.actor_prefix = "bench-" + std::to_string(::getpid()) + "-" +
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    const auto poll_body =
        args.str("poll-body",
                 R"({"title":"bench","choices":["a","b","c"],"privacy":{"decoys":{"distribution":"fixed","k":1}}})");
    const auto poll_json = json::parse(poll_body);
    if (!poll_json.is_object() || !poll_json.as_object().contains("choices") || !poll_json.at("choices").is_array())
      throw usage_error("--poll-body: a JSON object with \"choices\"");
    for (const auto& c : poll_json.at("choices").as_array()) {
      if (!c.is_string()) throw usage_error("--poll-body: choices must be strings");
      o.choices.emplace_back(c.as_string());
    }
    const int polls = static_cast<int>(args.number("polls", 1));
    for (int i = 0; i < polls; ++i) o.poll_ids.push_back(create_poll(o.host, o.port, poll_body));

    // The watched process's memory, sampled every 250 ms beside the load for its peak, and
    // every 5 s into a series (a soak shows growth there).
    const long watch_pid = static_cast<long>(args.number("watch-pid", 0));
    std::atomic<bool> watching{watch_pid > 0};
    std::atomic<std::uint64_t> peak_rss{0};
    std::vector<std::pair<double, std::uint64_t>>
        rss_series;  // (seconds since the load began, KiB); the watcher's until joined
    std::jthread watcher;
    if (watching)
      watcher = std::jthread([&] {
        const auto began = std::chrono::steady_clock::now();
        for (int tick = 0; watching; ++tick) {
          if (auto rss = proc_status_kib(watch_pid, "VmRSS")) {
            if (*rss > peak_rss) peak_rss = *rss;
            if (tick % 20 == 0)
              rss_series.emplace_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count(),
                                      *rss);
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
      });

    const auto cpu_before = watch_pid > 0 ? cpu_seconds(watch_pid) : std::nullopt;
    const auto r = run_load(o);
    const auto cpu_after = watch_pid > 0 ? cpu_seconds(watch_pid) : std::nullopt;
    std::optional<drain_result> drain;
    if (args.has("pollbook-dsn") && args.has("ballotbox-dsn")) {
      std::cerr << "waiting for pollbook and ballotbox to hold " << r.accepted_total << " votes\n";
      drain =
          wait_for_drain(args.str("pollbook-dsn", ""), args.str("ballotbox-dsn", ""), r.accepted_per_poll, r.finished,
                         std::chrono::milliseconds(static_cast<long>(args.number("drain-timeout", 60) * 1000)));
    }
    watching = false;
    if (watcher.joinable()) watcher.join();

    json::object out;
    out["label"] = args.str("label", "");
    out["config"] = {{"target", target},
                     {"mode", mode},
                     {"rate", o.mode == loop_mode::open ? json::value(o.rate) : json::value(nullptr)},
                     {"duration_s", std::chrono::duration<double>(o.duration).count()},
                     {"warmup_s", std::chrono::duration<double>(o.warmup).count()},
                     {"connections", o.connections},
                     {"threads", o.threads},
                     {"polls", polls},
                     {"poll_body", poll_json}};
    const double achieved = r.measured_seconds > 0 ? static_cast<double>(r.measured) / r.measured_seconds : 0;
    const std::uint64_t ok = r.statuses.count(202) ? r.statuses.at(202) : 0;
    json::object statuses;
    for (const auto& [status, n] : r.statuses) statuses[status == 0 ? "error" : std::to_string(status)] = n;
    out["load"] = {{"measured_seconds", r.measured_seconds},
                   {"sent", r.sent},
                   {"answered", r.completed},
                   {"measured", r.measured},
                   {"offered_rate", o.mode == loop_mode::open ? o.rate : achieved},
                   {"achieved_rate", achieved},
                   {"accepted_rate", r.measured_seconds > 0 ? static_cast<double>(ok) / r.measured_seconds : 0},
                   {"accepted_total", r.accepted_total},
                   {"reconnects", r.reconnects},
                   {"statuses", statuses}};
    const auto& h = r.latency;
    json::array buckets;
    for (const auto& [edge, n] : h.buckets()) buckets.push_back(json::array{edge, n});
    out["latency_ms"] = {{"basis", o.mode == loop_mode::open ? "answer - intended send time" : "answer - send time"},
                         {"count", h.count()},
                         {"min", ms(h.min())},
                         {"mean", h.mean() / 1000.0},
                         {"p50", ms(h.value_at(0.5))},
                         {"p90", ms(h.value_at(0.9))},
                         {"p99", ms(h.value_at(0.99))},
                         {"p999", ms(h.value_at(0.999))},
                         {"max", ms(h.max())},
                         {"histogram_us", buckets}};
    json::array timeline;
    for (const auto& s : r.timeline)
      timeline.push_back({{"t", s.t}, {"answered", s.completed}, {"accepted", s.accepted}, {"max_ms", ms(s.max_us)}});
    out["timeline"] = timeline;
    if (drain) {
      const double total = std::chrono::duration<double>(r.finished - r.started).count() + drain->seconds;
      out["drain"] = {
          {"complete", drain->complete},
          {"seconds", drain->seconds},
          {"expected", drain->expected},
          {"pollbook", drain->pollbook},
          {"ballotbox", drain->ballotbox},
          {"end_to_end_votes_per_s", total > 0 && drain->complete ? static_cast<double>(drain->expected) / total : 0}};
    }
    if (watch_pid > 0) {
      out["watched"] = {{"pid", watch_pid},
                        {"peak_rss_kib", peak_rss.load()},
                        {"vm_hwm_kib", proc_status_kib(watch_pid, "VmHWM").value_or(0)}};
      json::array series;
      for (const auto& [t, kib] : rss_series) series.push_back(json::array{t, kib});
      out["watched"].as_object()["rss_series_kib"] = series;
      if (cpu_before && cpu_after) {
        // Over the whole load (warm-up included): how many cores the server kept busy.
        const double cpu = *cpu_after - *cpu_before;
        const double wall = std::chrono::duration<double>(r.finished - r.started).count();
        out["watched"].as_object()["cpu_seconds"] = cpu;
        out["watched"].as_object()["cpu_cores"] = wall > 0 ? cpu / wall : 0.0;
        out["watched"].as_object()["cpu_us_per_answer"] =
            r.completed ? cpu * 1e6 / static_cast<double>(r.completed) : 0.0;
      }
    }

    std::ostringstream summary;
    summary << args.str("label", mode) << ": achieved " << static_cast<long>(achieved) << "/s (202: " << ok << " of "
            << r.measured << ")  p50 " << ms(h.value_at(0.5)) << " ms  p99 " << ms(h.value_at(0.99)) << " ms  p99.9 "
            << ms(h.value_at(0.999)) << " ms  max " << ms(h.max()) << " ms";
    if (drain)
      summary << "  drain " << drain->seconds << " s" << (drain->complete ? "" : " (INCOMPLETE)") << "  end-to-end "
              << out["drain"].at("end_to_end_votes_per_s").as_double() << " votes/s";
    std::cout << summary.str() << "\n";
    if (args.has("json")) {
      std::ofstream f(args.str("json", ""));
      f << json::serialize(out) << "\n";
      if (!f) throw std::runtime_error("cannot write " + args.str("json", ""));
    }
    return drain && !drain->complete ? 3 : 0;
  } catch (const usage_error& e) {
    std::cerr << "splitvote-bench: " << e.what() << "\n" << usage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "splitvote-bench: " << e.what() << "\n";
    return 1;
  }
}
