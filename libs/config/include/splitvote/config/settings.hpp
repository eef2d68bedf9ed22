// Service configuration: one YAML file, every key overridable by environment, validated at start.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::config {

/// One declared setting. Keys are dotted paths into the YAML file ("kafka.bootstrap_servers");
/// the environment variable is SPLITVOTE_ + the path upper-cased with "." as "__"
/// (SPLITVOTE_KAFKA__BOOTSTRAP_SERVERS). A secret may instead name a file holding its value:
/// `<key>_file` in the YAML or SPLITVOTE_<KEY>_FILE in the environment (one trailing newline of
/// the content is dropped). Precedence: environment value, environment file, YAML value, YAML
/// file, default; a value and a file at the same level are an error.
struct property {
  std::string key;
  std::string description;
  std::optional<std::string> default_value;  // none: required
  bool secret = false;                       // masked when the configuration is printed
};

/// Every problem found while loading, one per line, fit to print and exit on.
struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class settings {
public:
  /// Reads `path` (may be empty: defaults and environment only), then the environment.
  /// Unknown keys in the file are errors; unknown SPLITVOTE_ variables are ignored.
  /// Keys under a declared `passthrough_prefix` (e.g. "kafka.rdkafka.") are accepted as given.
  static settings load(const std::vector<property>& schema, const std::string& path,
                       const std::vector<std::string>& passthrough_prefixes = {});

  /// The file's part of load: YAML text, no environment (what the fuzz target feeds).
  static settings parse(const std::vector<property>& schema, std::string_view yaml,
                        const std::vector<std::string>& passthrough_prefixes = {});

  const std::string& str(const std::string& key) const;
  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max) const;
  std::chrono::milliseconds millis(const std::string& key) const;
  /// A list: a YAML sequence of scalars, or comma-separated text (as the environment gives it);
  /// items trimmed, empty ones dropped.
  std::vector<std::string> list(const std::string& key) const;

  /// All keys below a prefix, the prefix removed ("kafka.rdkafka." -> {"linger.ms": "5"}).
  std::map<std::string, std::string> with_prefix(const std::string& prefix) const;

  /// The effective configuration, one "key = value" per line, secrets masked (a secret read
  /// from a file says which file, never what it holds).
  std::string describe() const;

private:
  static settings resolve(const std::vector<property>& schema, std::string_view yaml, const std::string& path,
                          const std::map<std::string, std::string>& from_env,
                          const std::vector<std::string>& passthrough_prefixes);

  std::map<std::string, std::string> values_;
  std::map<std::string, bool> secret_;
  std::map<std::string, std::string> files_;  // secret key -> the file its value came from
};

/// The config path from `--config PATH` in argv, else SPLITVOTE_CONFIG, else empty.
std::string config_path_from(int argc, char** argv);

}  // namespace splitvote::config
