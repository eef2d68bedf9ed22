#include "splitvote/config/settings.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <variant>

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
    problems.push_back(prefix.substr(0, 200) + ": nested too deeply or too large (an alias that contains itself?)");
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
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return key.rfind(p, 0) == 0; });
}

std::string key_to_env(const std::string& key) {
  std::string name = "SPLITVOTE_";
  for (const char ch : key) {
    if (ch == '.')
      name += "__";
    else
      name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  return name;
}

constexpr std::string_view file_suffix = "_file";

/// "privacy.actor_secret_file" -> "privacy.actor_secret"; empty if `key` has no _file suffix.
std::string without_file_suffix(const std::string& key) {
  if (key.size() <= file_suffix.size() ||
      key.compare(key.size() - file_suffix.size(), file_suffix.size(), file_suffix) != 0)
    return {};
  return key.substr(0, key.size() - file_suffix.size());
}

std::optional<std::string> take(std::map<std::string, std::string>& from, const std::string& key) {
  auto it = from.find(key);
  if (it == from.end()) return std::nullopt;
  std::string value = std::move(it->second);
  from.erase(it);
  return value;
}

/// A secret's file (a Docker or Kubernetes secret): its content with one trailing newline
/// removed, since `echo secret > file` and most editors add one. A problem names the key and
/// the path, never the content. Only a regular file (a symlink to one, as Kubernetes mounts
/// them, is fine) of at most 64 KiB: /dev/zero or a FIFO would hang the start.
std::optional<std::string> read_secret_file(const std::string& key, const std::string& origin, const std::string& path,
                                            std::vector<std::string>& problems) {
  constexpr std::uintmax_t max_bytes = 64 * 1024;
  const auto refuse = [&](const std::string& why) {
    problems.push_back(key + ": cannot read the file '" + path + "' that " + origin + " names (" + why + ")");
    return std::nullopt;
  };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (path.empty() || !std::filesystem::exists(status)) return refuse("no such file");
  if (!std::filesystem::is_regular_file(status)) return refuse("not a regular file");
  if (std::filesystem::file_size(path, ec) > max_bytes || ec) return refuse("larger than 64 KiB: not a secret");
  std::ifstream in(path, std::ios::binary);
  std::string content;
  if (in) content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (!in.is_open() || in.bad()) return refuse("cannot open it");
  if (content.size() >= 2 && content.compare(content.size() - 2, 2, "\r\n") == 0)
    content.resize(content.size() - 2);
  else if (!content.empty() && content.back() == '\n')
    content.pop_back();
  return content;
}

/// The integer `text` is, or the problem with it (the key is put before it).
std::variant<std::int64_t, std::string> parse_integer(const std::string& text, std::int64_t min, std::int64_t max) {
  std::size_t used = 0;
  std::int64_t n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) return "expected an integer, got '" + text + "'";
  if (n < min || n > max) return text + " is outside [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  return n;
}

/// Comma-separated items, trimmed, empty ones dropped (settings::list).
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    out.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  }
  return out;
}

/// Every problem with a declared value: its kind, its bounds, its check.
void check_value(const property& p, const std::string& value, std::vector<std::string>& problems) {
  if (p.type == property::kind::integer) {
    const auto n = parse_integer(value, p.min, p.max);
    if (const auto* problem = std::get_if<std::string>(&n)) {
      problems.push_back(p.key + ": " + *problem);
      return;
    }
  }
  if (!p.check) return;
  const auto items = p.type == property::kind::list ? split_list(value) : std::vector<std::string>{value};
  for (const auto& item : items)
    if (const auto problem = p.check(item)) problems.push_back(p.key + ": " + *problem);
}

}  // namespace

property text(std::string key, std::string description, std::optional<std::string> default_value) {
  return {std::move(key), std::move(description), std::move(default_value)};
}

property secret(std::string key, std::string description, std::optional<std::string> default_value) {
  return {std::move(key), std::move(description), std::move(default_value), true};
}

property integer(std::string key, std::string description, std::int64_t default_value, std::int64_t min,
                 std::int64_t max) {
  return {
      std::move(key), std::move(description), std::to_string(default_value), false, property::kind::integer, min, max};
}

property millis(std::string key, std::string description, std::int64_t default_value, std::int64_t min,
                std::int64_t max) {
  return integer(std::move(key), std::move(description), default_value, min, max);
}

property list(std::string key, std::string description, std::string default_value) {
  return {std::move(key), std::move(description), std::move(default_value), false, property::kind::list};
}

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

settings settings::resolve(const std::vector<property>& schema, std::string_view yaml, const std::string& path,
                           const std::map<std::string, std::string>& from_env,
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
  const auto declared = [&](const std::string& key) -> const property* {
    const auto it = std::find_if(schema.begin(), schema.end(), [&](const property& p) { return p.key == key; });
    return it == schema.end() ? nullptr : &*it;
  };
  // The environment overrides declared keys (and pass-through keys); other SPLITVOTE_
  // variables may be meant for a sibling service in a shared environment, so they are ignored.
  // SPLITVOTE_<KEY>_FILE is kept for a declared secret and refused for any other declared key.
  std::map<std::string, std::string> env;
  for (const auto& entry : from_env) {
    const std::string& key = entry.first;
    if (declared(key) || has_prefix(key, passthrough_prefixes)) {
      env[key] = entry.second;
    } else if (const property* base = declared(without_file_suffix(key))) {
      if (base->secret)
        env[key] = entry.second;
      else
        problems.push_back(key + ": unknown setting (from " + key_to_env(key) +
                           "; only secret settings can be read from a file)");
    }
  }
  std::set<std::string> unread;
  // Secrets may come from files: <key>_file in the YAML, SPLITVOTE_<KEY>_FILE in the
  // environment. The environment still wins over the file, and a value over a file.
  for (const auto& p : schema) {
    if (!p.secret) continue;
    const std::string file_key = p.key + std::string(file_suffix);
    const auto env_value = take(env, p.key), env_file = take(env, file_key);
    const auto yaml_value = take(given, p.key), yaml_file = take(given, file_key);
    if (env_value && env_file)
      problems.push_back(p.key + ": both " + key_to_env(p.key) + " and " + key_to_env(file_key) + " are set; set one");
    if (yaml_value && yaml_file)
      problems.push_back(p.key + ": both " + p.key + " and " + file_key + " are set in the file; set one");
    std::optional<std::string> value;
    if (env_value) {
      value = env_value;
    } else if (env_file) {
      value = read_secret_file(p.key, key_to_env(file_key), *env_file, problems);
      s.files_[p.key] = *env_file;
    } else if (yaml_value) {
      value = yaml_value;
    } else if (yaml_file) {
      value = read_secret_file(p.key, file_key, *yaml_file, problems);
      s.files_[p.key] = *yaml_file;
    }
    if (value)
      given[p.key] = std::move(*value);
    else if (env_file || yaml_file)
      unread.insert(p.key);  // already reported; "required" would say it twice
  }
  for (auto& [key, value] : env) given[key] = std::move(value);
  for (const auto& p : schema) {
    s.secret_[p.key] = p.secret;
    if (p.type == property::kind::integer) s.bounds_[p.key] = {p.min, p.max};
    if (auto it = given.find(p.key); it != given.end()) {
      s.values_[p.key] = it->second;
      given.erase(it);
    } else if (p.default_value) {
      s.values_[p.key] = *p.default_value;
    } else if (!unread.count(p.key)) {
      problems.push_back(p.key + ": required (" + p.description + ")");
    }
    if (auto it = s.values_.find(p.key); it != s.values_.end()) check_value(p, it->second, problems);
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
  const auto n = parse_integer(str(key), min, max);
  if (const auto* problem = std::get_if<std::string>(&n)) throw error(key + ": " + *problem);
  return std::get<std::int64_t>(n);
}

std::int64_t settings::declared_integer(const std::string& key) const {
  const auto it = bounds_.find(key);
  if (it == bounds_.end()) throw error(key + ": not declared as an integer");
  return integer(key, it->second.first, it->second.second);
}

std::chrono::milliseconds settings::millis(const std::string& key) const {
  if (bounds_.count(key)) return std::chrono::milliseconds(declared_integer(key));
  return std::chrono::milliseconds(integer(key, 0, max_millis));
}

std::vector<std::string> settings::list(const std::string& key) const { return split_list(str(key)); }

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
    const bool masked = (it != secret_.end() && it->second) || k.find("password") != std::string::npos ||
                        k.find("secret") != std::string::npos || k.find(".key") != std::string::npos ||
                        k.find("sasl.") != std::string::npos;
    out << k << " = " << (masked ? "****" : v);
    if (auto file = files_.find(k); file != files_.end()) out << " (from file " << file->second << ")";
    out << "\n";
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
