#include "splitvote/config/settings.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

extern char** environ;

namespace splitvote::config {
namespace {

/// Aliases make a YAML document a graph: "&a {x: *a}" contains itself, and a few aliases of
/// aliases expand exponentially. A configuration is neither deep nor large, so both are bounded.
constexpr int max_depth = 32;
constexpr std::size_t max_nodes = 10000;

void flatten(const YAML::Node& node, const std::string& prefix, int depth, std::size_t& budget,
             std::map<std::string, std::string>& out, std::vector<std::string>& problems) {
  if (budget == 0) return;  // already reported
  if (depth > max_depth || --budget == 0) {
    budget = 0;
    problems.push_back(prefix.substr(0, 200) +
                       ": nested too deeply or too large (an alias that contains itself?)");
    return;
  }
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      flatten(kv.second, prefix.empty() ? key : prefix + "." + key, depth + 1, budget, out, problems);
    }
  } else if (node.IsScalar()) {
    out[prefix] = node.Scalar();
  } else if (node.IsNull()) {
    out[prefix] = "";
  } else if (node.IsSequence()) {
    // A list of scalars is the comma-separated text the environment gives (settings::list).
    std::string joined;
    for (const auto& item : node) {
      if (!item.IsScalar() || item.Scalar().find(',') != std::string::npos) {
        problems.push_back(prefix + ": expected a list of scalars without commas");
        return;
      }
      joined += (joined.empty() ? "" : ",") + item.Scalar();
    }
    out[prefix] = joined;
  } else {
    problems.push_back(prefix + ": expected a scalar, a list or a map");
  }
}

std::string env_to_key(const std::string& name) {
  std::string rest = name.substr(std::string("SPLITVOTE_").size());
  std::string key;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '_' && i + 1 < rest.size() && rest[i + 1] == '_') {
      key.push_back('.');
      ++i;
    } else {
      key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(rest[i]))));
    }
  }
  return key;
}

bool has_prefix(const std::string& key, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return key.rfind(p, 0) == 0; });
}

}  // namespace

settings settings::load(const std::vector<property>& schema, const std::string& path,
                        const std::vector<std::string>& passthrough_prefixes) {
  std::string yaml;
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error("config file " + path + ": cannot read it");
    yaml.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::map<std::string, std::string> from_env;
  for (char** env = environ; env && *env; ++env) {
    const std::string entry = *env;
    const auto eq = entry.find('=');
    if (eq == std::string::npos || entry.rfind("SPLITVOTE_", 0) != 0) continue;
    const std::string name = entry.substr(0, eq);
    if (name == "SPLITVOTE_CONFIG") continue;
    from_env[env_to_key(name)] = entry.substr(eq + 1);
  }
  return resolve(schema, yaml, path, from_env, passthrough_prefixes);
}

settings settings::parse(const std::vector<property>& schema, std::string_view yaml,
                         const std::vector<std::string>& passthrough_prefixes) {
  return resolve(schema, yaml, "", {}, passthrough_prefixes);
}

settings settings::resolve(const std::vector<property>& schema, std::string_view yaml,
                           const std::string& path, const std::map<std::string, std::string>& from_env,
                           const std::vector<std::string>& passthrough_prefixes) {
  std::map<std::string, std::string> given;
  std::vector<std::string> problems;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    std::size_t budget = max_nodes;
    if (!root.IsNull()) flatten(root, "", 0, budget, given, problems);
  } catch (const YAML::Exception& e) {
    throw error((path.empty() ? std::string("config: ") : "config file " + path + ": ") + e.what());
  }

  settings s;
  // The environment overrides declared keys (and pass-through keys); other SPLITVOTE_
  // variables may be meant for a sibling service in a shared environment, so they are ignored.
  // (Not a structured binding: clang 14 cannot capture one in the lambda.)
  for (const auto& entry : from_env) {
    const std::string& key = entry.first;
    const bool declared = std::any_of(schema.begin(), schema.end(),
                                      [&](const property& p) { return p.key == key; });
    if (declared || has_prefix(key, passthrough_prefixes)) given[key] = entry.second;
  }
  for (const auto& p : schema) {
    s.secret_[p.key] = p.secret;
    if (auto it = given.find(p.key); it != given.end()) {
      s.values_[p.key] = it->second;
      given.erase(it);
    } else if (p.default_value) {
      s.values_[p.key] = *p.default_value;
    } else {
      problems.push_back(p.key + ": required (" + p.description + ")");
    }
  }
  for (const auto& [key, value] : given) {
    if (has_prefix(key, passthrough_prefixes))
      s.values_[key] = value;
    else
      problems.push_back(key + ": unknown setting");
  }
  if (!problems.empty()) {
    std::ostringstream msg;
    msg << "invalid configuration" << (path.empty() ? "" : " in " + path) << ":";
    for (const auto& p : problems) msg << "\n  " << p;
    throw error(msg.str());
  }
  return s;
}

const std::string& settings::str(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw error(key + ": not declared");
  return it->second;
}

std::int64_t settings::integer(const std::string& key, std::int64_t min, std::int64_t max) const {
  const std::string& v = str(key);
  std::size_t used = 0;
  std::int64_t n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size()) throw error(key + ": expected an integer, got '" + v + "'");
  if (n < min || n > max)
    throw error(key + ": " + v + " is outside [" + std::to_string(min) + ", " +
                std::to_string(max) + "]");
  return n;
}

std::chrono::milliseconds settings::millis(const std::string& key) const {
  return std::chrono::milliseconds(integer(key, 0, std::int64_t{366} * 24 * 3600 * 1000));
}

std::vector<std::string> settings::list(const std::string& key) const {
  std::vector<std::string> out;
  std::istringstream in(str(key));
  for (std::string item; std::getline(in, item, ',');) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    out.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  return out;
}

std::map<std::string, std::string> settings::with_prefix(const std::string& prefix) const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : values_)
    if (k.rfind(prefix, 0) == 0) out[k.substr(prefix.size())] = v;
  return out;
}

std::string settings::describe() const {
  std::ostringstream out;
  for (const auto& [k, v] : values_) {
    auto it = secret_.find(k);
    // Declared secrets, and pass-through keys that look like credentials (sasl.password,
    // ssl.key.pem, ssl.key.password, ...).
    const bool masked = (it != secret_.end() && it->second) ||
                        k.find("password") != std::string::npos ||
                        k.find("secret") != std::string::npos ||
                        k.find(".key") != std::string::npos || k.find("sasl.") != std::string::npos;
    out << k << " = " << (masked ? "****" : v) << "\n";
  }
  return out.str();
}

std::string config_path_from(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--config") return argv[i + 1];
  if (const char* env = std::getenv("SPLITVOTE_CONFIG")) return env;
  return {};
}

}  // namespace splitvote::config
