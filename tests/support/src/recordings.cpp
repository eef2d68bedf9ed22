#include "splitvote/testing/recordings.hpp"

#include "splitvote/testing/environment.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <set>
#include <stdexcept>
#include <utility>

namespace splitvote::testing {

namespace {

/// One line per call, written whole at once (append_line): test processes run side by side
/// (ctest -j) and each line must reach the file whole even if the process is killed later.
void append(const boost::json::object& line) { append_line(recordings_path(), boost::json::serialize(line)); }

}  // namespace

std::filesystem::path recordings_path() { return setting("SPLITVOTE_SECRETS", SPLITVOTE_SECRETS); }

void record_secret(std::string_view secret) {
  if (!secret.empty()) append({{"secret", secret}});
}

void record_vote(std::string_view actor_id, std::string_view choice) {
  append({{"actor_id", actor_id}, {"choice", choice}});
}

recordings read_recordings(const std::filesystem::path& path) {
  recordings out;
  std::ifstream in(path, std::ios::binary);
  std::set<std::string> secrets;
  std::set<std::pair<std::string, std::string>> votes;
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    boost::system::error_code ec;
    const auto v = boost::json::parse(line, ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto string_at = [&](const char* key) -> const boost::json::string* {
      const auto* f = o ? o->if_contains(key) : nullptr;
      return f ? f->if_string() : nullptr;
    };
    if (const auto* s = string_at("secret")) {
      if (secrets.insert(std::string(*s)).second) out.secrets.emplace_back(*s);
    } else if (const auto* a = string_at("actor_id"), *c = string_at("choice"); a && c) {
      if (votes.emplace(std::string(*a), std::string(*c)).second)
        out.votes.push_back({std::string(*a), std::string(*c)});
    } else {
      throw std::runtime_error(path.string() + ":" + std::to_string(number) + ": not a recorded secret or vote");
    }
  }
  return out;
}

}  // namespace splitvote::testing
