#include "splitvote/testing/stack.hpp"

#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/recordings.hpp"

#include "splitvote/pg/pool.hpp"
#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/random/random_source.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace splitvote::testing {

namespace {

const char* name_of(stack::service s) {
  switch (s) {
    case stack::service::ingest:
      return "ingest";
    case stack::service::pollbook:
      return "pollbook";
    case stack::service::ballotbox:
      return "ballotbox";
  }
  return "?";
}

/// For the log scan: the secrets a service is given. The actor secret (the constant or a test's
/// own), any password or token, and the password of a DSN (postgresql://user:password@host).
/// The fixture's clusters trust local connections (initdb --auth=trust): no DSN has one today.
void record_secrets_of(const std::map<std::string, std::string>& env) {
  for (const auto& [name, value] : env) {
    const bool secret = name.find("SECRET") != std::string::npos || name.find("PASSWORD") != std::string::npos ||
                        name.find("TOKEN") != std::string::npos;
    // A setting that names a file (SPLITVOTE_SEAL__SECRET_KEY, *_FILE): its content is the
    // secret; the path is not (services may log where their keys are).
    if (secret && value.starts_with('/')) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(value, ec)) record_secret(read_file(value));
    } else if (secret) {
      record_secret(value);
    }
    if (const auto scheme = value.find("://"); scheme != std::string::npos) {
      const auto at = value.find('@', scheme), colon = value.find(':', scheme + 3);
      if (at != std::string::npos && colon < at) record_secret(value.substr(colon + 1, at - colon - 1));
    }
  }
}

}  // namespace

stack::stack(const std::string& name, stack_options options) : options_(std::move(options)) {
  dir_ = temp_dir(name);
  main_dsn_ = fresh_database(options_.main_server.empty() ? pg().main : options_.main_server);
  ballot_dsn_ = fresh_database(options_.ballot_server.empty() ? pg().ballot : options_.ballot_server);
  broker_ = std::make_unique<dev_broker>(dir_);
  bootstrap_ = broker_->bootstrap();

  // Each consumer's key pair for sealed halves.
  for (const char* who : {"pollbook", "ballotbox"}) {
    child_process keygen(binary("splitvote-keygen"), {(dir_ / who).string()}, {}, dir_ / "keygen.log");
    if (keygen.wait(std::chrono::seconds(10)) != 0)
      throw std::runtime_error("keygen failed: " + read_file(dir_ / "keygen.log"));
    std::string key = read_file(dir_ / (std::string(who) + ".key"));
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    record_secret(key);  // the consumer's secret key for sealed halves, hex
  }
  record_secret(actor_secret);

  child_process migrate(binary("splitvote-migrate"), {},
                        {{"SPLITVOTE_CATALOG__DSN", main_dsn_},
                         {"SPLITVOTE_POLLBOOK__DSN", main_dsn_},
                         {"SPLITVOTE_BALLOTBOX__DSN", ballot_dsn_}},
                        dir_ / "migrate.log");
  if (migrate.wait(std::chrono::seconds(30)) != 0)
    throw std::runtime_error("migrate failed: " + read_file(dir_ / "migrate.log"));
  ports_[0] = free_port();
}

stack::~stack() {
  // A service that died on its own is worth a line: the tests kill them only on purpose.
  for (auto& [key, p] : services_)
    if (p && !p->running())
      std::cerr << "stack: " << name_of(key.first) << "-" << key.second << " had exited with status "
                << p->wait(std::chrono::milliseconds(0)).value_or(-1) << "\n";
  // Orderly where possible (ingest, consumers, broker); the child destructors kill the rest.
  for (auto s : {service::ingest, service::pollbook, service::ballotbox})
    for (auto& [key, p] : services_)
      if (key.first == s && p && p->running()) {
        p->signal(15);
        p->wait(std::chrono::seconds(25));
      }
  services_.clear();
  broker_.reset();
}

std::string stack::binary_for(service s) const { return binary(std::string("splitvote-") + name_of(s)); }

std::map<std::string, std::string> stack::env_for(service s) const {
  std::map<std::string, std::string> env{{"SPLITVOTE_KAFKA__BOOTSTRAP_SERVERS", bootstrap_}};
  switch (s) {
    case service::ingest:
      // Each component with its own role: ingest reads the stores through aggregates only.
      env["SPLITVOTE_CATALOG__DSN"] = as_role(main_dsn_, "splitvote_catalog");
      env["SPLITVOTE_POLLBOOK__DSN"] = as_role(main_dsn_, "splitvote_pollbook_reader");
      env["SPLITVOTE_BALLOTBOX__DSN"] = as_role(ballot_dsn_, "splitvote_ballotbox_reader");
      env["SPLITVOTE_PRIVACY__ACTOR_SECRET"] = actor_secret;
      env["SPLITVOTE_HTTP__THREADS"] = "2";
      env["SPLITVOTE_PRIVACY__RELEASE_INTERVAL_MS"] = "0";
      env["SPLITVOTE_PRIVACY__FINAL_RELEASE_AFTER_MS"] = "0";
      env["SPLITVOTE_SEAL__POLLBOOK_PUBLIC_KEY"] = (dir_ / "pollbook.pub").string();
      env["SPLITVOTE_SEAL__BALLOTBOX_PUBLIC_KEY"] = (dir_ / "ballotbox.pub").string();
      for (const auto& [k, v] : options_.ingest_env) env[k] = v;
      break;
    case service::pollbook:
    case service::ballotbox:
      env["SPLITVOTE_DB__DSN"] = s == service::pollbook ? as_role(main_dsn_, "splitvote_pollbook")
                                                        : as_role(ballot_dsn_, "splitvote_ballotbox");
      env["SPLITVOTE_SEAL__SECRET_KEY"] = (dir_ / (s == service::pollbook ? "pollbook.key" : "ballotbox.key")).string();
      env["SPLITVOTE_BATCH__MAX"] = "100";
      env["SPLITVOTE_BATCH__MAX_DELAY_MS"] = "100";
      // Mixing as shipped (k in [5, 15]) but a short wait, so a test's last few votes are
      // stored within a second or so instead of minutes.
      env["SPLITVOTE_MIXING__MAX_WAIT_MS"] = "1000";
      // Positions to Kafka (where ingest reads the lag) twice a second rather than every 10 s.
      env["SPLITVOTE_KAFKA__COMMIT_INTERVAL_MS"] = "500";
      for (const auto& [k, v] : options_.consumer_env) env[k] = v;
      break;
  }
  return env;
}

child_process& stack::start(service s, int instance) {
  auto& slot = services_[{s, instance}];
  slot.reset();
  const auto log = dir_ / (std::string(name_of(s)) + "-" + std::to_string(instance) + ".log");
  auto env = env_for(s);
  if (s == service::ingest && ports_.count(instance)) {
    env["SPLITVOTE_HTTP__PORT"] = std::to_string(ports_[instance]);
  } else {
    // free_port() can hand out a port it gave before (nobody listens on it yet): keep them apart.
    unsigned short p = free_port();
    for (int tries = 0; tries < 100; ++tries, p = free_port()) {
      bool taken = false;
      for (const auto& [i, q] : ports_) taken = taken || q == p;
      for (const auto& [key, q] : probe_ports_) taken = taken || (q == p && key != std::pair{s, instance});
      if (!taken) break;
    }
    (s == service::ingest ? ports_[instance] : probe_ports_[{s, instance}]) = p;
    env["SPLITVOTE_HTTP__PORT"] = std::to_string(p);
  }
  record_secrets_of(env);
  slot = std::make_unique<child_process>(binary_for(s), std::vector<std::string>{}, env, log);
  if (s == service::ingest && env.count("SPLITVOTE_HTTP__TLS__CERTIFICATE_CHAIN")) {
    // HTTPS only: the plain client cannot ask /readyz; the test speaks TLS itself.
    if (!wait_for_log(s, instance, R"("event":"listening")", 1, std::chrono::seconds(15)))
      throw std::runtime_error("ingest did not start listening: " + read_file(log));
  } else if (s == service::ingest) {
    const bool ready = eventually(
        [&] {
          if (!slot->running()) return false;
          try {
            return http_client(ports_.at(instance)).get("/readyz").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        std::chrono::seconds(15));
    if (!ready) throw std::runtime_error("ingest did not become ready: " + read_file(log));
  }
  return *slot;
}

std::optional<int> stack::stop(service s, int instance, int sig, std::chrono::milliseconds timeout) {
  auto* p = process(s, instance);
  if (!p) return std::nullopt;
  p->signal(sig);
  return p->wait(timeout);
}

void stack::start_all_assigned() {
  start_all();
  REQUIRE(wait_for_log(service::pollbook, 0, "partitions_assigned"));
  REQUIRE(wait_for_log(service::ballotbox, 0, "partitions_assigned"));
}

child_process* stack::process(service s, int instance) {
  auto it = services_.find({s, instance});
  return it == services_.end() ? nullptr : it->second.get();
}

bool stack::wait_for_log(service s, int instance, const std::string& text, int times,
                         std::chrono::milliseconds timeout) {
  const auto log = dir_ / (std::string(name_of(s)) + "-" + std::to_string(instance) + ".log");
  return eventually(
      [&] {
        const std::string content = read_file(log);
        int found = 0;
        for (auto at = content.find(text); at != std::string::npos; at = content.find(text, at + 1)) ++found;
        return found >= times;
      },
      timeout);
}

std::string stack::actor_key_hex(const std::string& poll_id, const std::string& actor) const {
  static std::map<std::string, std::string> salts;  // poll id -> key hex
  auto it = salts.find(poll_id);
  if (it == salts.end()) {
    auto c = pg::connect(main_dsn_);
    pqxx::read_transaction tx(*c);
    const auto r = tx.exec_params("SELECT encode(key, 'hex') FROM catalog.poll_keys WHERE poll_id = $1::uuid", poll_id);
    if (r.empty()) throw std::runtime_error("no key for poll " + poll_id);
    it = salts.emplace(poll_id, r[0][0].as<std::string>()).first;
  }
  return random::to_hex(privacy::derive_actor_key(actor_secret, it->second, actor));
}

std::string stack::all_logs() const {
  std::string out;
  for (const auto& entry : std::filesystem::directory_iterator(dir_))
    if (entry.path().extension() == ".log")
      out += "== " + entry.path().filename().string() + "\n" + read_file(entry.path());
  return out;
}

}  // namespace splitvote::testing
