#include "splitvote/testing/environment.hpp"

#include "splitvote/testing/process.hpp"

#include "splitvote/pg/pool.hpp"
#include "splitvote/random/random_source.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace splitvote::testing {

/// The environment variable if set, else the build's default.
const char* setting(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

void append_line(const std::filesystem::path& path, std::string_view line) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::string text(line);
  text += '\n';
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  // One call: appends of one write(2) to a local file do not interleave with other processes'.
  const auto written = ::write(fd, text.data(), text.size());
  const int saved = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("short write to " + path.string() + ": " + std::strerror(written < 0 ? saved : EIO));
}

const pg_servers& pg() {
  static const pg_servers servers = [] {
    const char* path = setting("SPLITVOTE_TEST_PG_ENV", SPLITVOTE_TEST_PG_ENV);
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path + ": is the postgres fixture up?");
    pg_servers s;
    std::string line;
    while (std::getline(in, line)) {
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      const auto key = line.substr(0, eq), value = line.substr(eq + 1);
      if (key == "SPLITVOTE_TEST_PG_MAIN") s.main = value;
      if (key == "SPLITVOTE_TEST_PG_BALLOT") s.ballot = value;
    }
    if (s.main.empty() || s.ballot.empty()) throw std::runtime_error(std::string(path) + " is incomplete");
    return s;
  }();
  return servers;
}

namespace {

/// Runs `commands` after sourcing script/lib/postgres.sh (test settings: no fsync).
void run_pg_functions(const std::string& what, const std::string& commands) {
  const std::string script = std::string(SPLITVOTE_SOURCE_DIR) + "/script/lib/postgres.sh";
  const auto log = temp_dir("pg-" + what) / "out.log";
  child_process p("/bin/bash", {"-c", "source '" + script + "' && export SPLITVOTE_PG_FSYNC=off && " + commands}, {},
                  log);
  if (p.wait(std::chrono::seconds(60)) != 0) throw std::runtime_error("pg " + what + " failed: " + read_file(log));
}

void run_pg_script(const std::string& which, const std::string& action) {
  if (which != "main" && which != "ballot") throw std::invalid_argument("no cluster " + which);
  const std::filesystem::path dir =
      std::filesystem::path(setting("SPLITVOTE_TEST_PG_ENV", SPLITVOTE_TEST_PG_ENV)).parent_path() / which;
  const std::string& url = which == "main" ? pg().main : pg().ballot;
  const std::string port = url.substr(url.rfind(':') + 1);
  run_pg_functions(action + " " + which,
                   action == "stop" ? "pg_stop '" + dir.string() + "'" : "pg_start '" + dir.string() + "' " + port);
}

/// The pids whose parent is `parent` (from /proc).
std::vector<int> children_of(int parent) {
  std::vector<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    const std::string stat = read_file(entry.path() / "stat");  // "pid (comm) state ppid ..."
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    int ppid = 0;
    if (rest >> state >> ppid && ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

}  // namespace

void pg_server_stop(const std::string& which) { run_pg_script(which, "stop"); }

private_cluster::private_cluster(const std::string& name, bool shipped_wal) : dir_(temp_dir("pg-" + name) / "data") {
  const auto port = std::to_string(free_port());
  run_pg_functions("init " + name, std::string(shipped_wal ? "" : "PG_WAL_SETTINGS=() && ") + "pg_init '" +
                                       dir_.string() + "' && pg_start '" + dir_.string() + "' " + port);
  url_ = "postgresql://postgres@127.0.0.1:" + port;
}

private_cluster::~private_cluster() {
  try {
    thaw();
    run_pg_functions("stop", "pg_stop '" + dir_.string() + "'");
  } catch (const std::exception& e) {
    std::cerr << "private_cluster: " << e.what() << "\n";
  }
}

void private_cluster::freeze() {
  // postmaster.pid's first line; the postmaster first, so it starts no new backend meanwhile.
  std::istringstream pid_file(read_file(dir_ / "postmaster.pid"));
  int postmaster = 0;
  if (!(pid_file >> postmaster) || postmaster <= 0) throw std::runtime_error("no postmaster.pid in " + dir_.string());
  const auto stop = [this](int pid, const std::string& name) {
    // The watchdog's SIGKILL ends a stopped process too: a hung test leaves no frozen cluster.
    register_child(pid, name);
    ::kill(pid, SIGSTOP);
    frozen_.push_back(pid);
  };
  stop(postmaster, "postgres (frozen)");
  for (int pid : children_of(postmaster)) stop(pid, "postgres backend (frozen)");
}

void private_cluster::thaw() {
  for (auto it = frozen_.rbegin(); it != frozen_.rend(); ++it) {
    ::kill(*it, SIGCONT);
    forget_child(*it);
  }
  frozen_.clear();
}
void pg_server_start(const std::string& which) { run_pg_script(which, "start"); }

std::string fresh_database(const std::string& server) {
  auto rng = random::system_source();
  const std::string name = "t_" + random::to_hex(random::random_id(*rng)).substr(0, 16);
  auto c = pg::connect(server + "/postgres");
  pqxx::nontransaction tx(*c);
  tx.exec("CREATE DATABASE " + name);
  return server + "/" + name;
}

std::string as_role(const std::string& dsn, const std::string& role) {
  const std::string superuser = "postgres@";
  const auto at = dsn.find(superuser);
  if (at == std::string::npos) throw std::invalid_argument("as_role: the DSN does not log in as postgres: " + dsn);
  return dsn.substr(0, at) + role + "@" + dsn.substr(at + superuser.size());
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::filesystem::path temp_dir(const std::string& prefix) {
  auto rng = random::system_source();
  auto dir = std::filesystem::path(setting("SPLITVOTE_TEST_TMP", SPLITVOTE_TEST_TMP)) /
             (prefix + "-" + random::to_hex(random::random_id(*rng)).substr(0, 10));
  std::filesystem::create_directories(dir);
  return dir;
}

std::string binary(const std::string& name) {
  const char* dir = setting("SPLITVOTE_BIN_DIR", SPLITVOTE_BIN_DIR);
  const std::string sub = name.substr(std::string("splitvote-").size());
  return std::string(dir) + "/" + sub + "/" + name;
}

namespace {

/// The first port of the kernel's ephemeral range (32768 unless the host says otherwise).
unsigned short ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 32768;
  in >> low;
  return static_cast<unsigned short>(std::clamp(low, 1025u, 65535u));
}

bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

/// Claims `port` for this process with a file in `dir` (O_EXCL), taking over a claim whose
/// process has ended. False if a live process holds it.
bool claim(const std::filesystem::path& dir, unsigned short port) {
  const auto path = dir / std::to_string(port);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      const auto pid = std::to_string(::getpid());
      const bool written = ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      ::close(fd);
      return written;
    }
    if (errno != EEXIST) throw std::runtime_error("free_port: " + path.string() + ": " + std::strerror(errno));
    std::ifstream in(path);
    pid_t holder = 0;
    // A claim being written (empty for an instant) counts as live.
    if (!(in >> holder) || alive(holder)) return false;
    std::filesystem::remove(path);  // the holder has ended; if two of us race here, O_EXCL picks one
  }
  return false;
}

}  // namespace

unsigned short free_port() {
  // Not bind(0): that port comes from the ephemeral range, which every outgoing connection on the
  // machine draws from too, and between this pick and the server's own bind another test's client
  // socket could take it ("bind: Address already in use", faults.broker-errors in a full run).
  // Below the range only listeners take ports, and the tests' own claim theirs here, one process
  // (pid) each, across all the test processes of a run.
  const unsigned short high = ephemeral_low();
  const unsigned short low = high > 12000 ? high - 12000 : 1024;
  const auto dir = std::filesystem::temp_directory_path() / "splitvote-test-ports";
  std::filesystem::create_directories(dir);
  boost::asio::io_context ioc;
  for (int tries = 0; tries < 1000; ++tries) {
    const auto port = static_cast<unsigned short>(low + random::thread_source().uniform(high - low));
    if (!claim(dir, port)) continue;
    boost::system::error_code ec;
    boost::asio::ip::tcp::acceptor a(ioc);
    a.open(boost::asio::ip::tcp::v4(), ec);
    if (!ec) a.set_option(boost::asio::socket_base::reuse_address(true), ec);
    if (!ec) a.bind({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) return port;  // the claim stays until this process ends: nobody else's test takes it
  }
  throw std::runtime_error("free_port: no free port below " + std::to_string(high) + " after 1000 tries");
}

}  // namespace splitvote::testing
