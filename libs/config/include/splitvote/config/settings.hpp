// Service configuration: one YAML file, every key overridable by environment, validated at start.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace splitvote::config {

/// One declared setting. Keys are dotted paths into the YAML file ("kafka.bootstrap_servers");
/// the environment variable is SPLITVOTE_ + the path upper-cased with "." as "__"
/// (SPLITVOTE_KAFKA__BOOTSTRAP_SERVERS). A secret may instead name a file holding its value:
/// `<key>_file` in the YAML or SPLITVOTE_<KEY>_FILE in the environment (one trailing newline of
/// the content is dropped). Precedence: environment value, environment file, YAML value, YAML
/// file, default; a value and a file at the same level are an error.
/// What the value must be (an integer within bounds, a list whose items pass a check) is
/// declared here too: settings::load checks every value and reports every problem at once.
struct property {
  enum class kind { text, integer, list };
  /// The problem with a value (for a list: with one item), or nothing. The key is put before
  /// it; it must not repeat a secret's value.
  using check_fn = std::function<std::optional<std::string>(const std::string& value)>;

  std::string key;
  std::string description;
  std::optional<std::string> default_value;  // none: required
  bool secret = false;                       // masked when the configuration is printed
  kind type = kind::text;
  std::int64_t min = 0, max = 0;  // an integer's bounds, both included
  check_fn check = {};            // none: any value of the kind

  /// This property with a further check of its value.
  property checked(check_fn c) && {
    check = std::move(c);
    return std::move(*this);
  }
};

/// The longest duration a millis property may take by default: 366 days.
inline constexpr std::int64_t max_millis = std::int64_t{366} * 24 * 3600 * 1000;

/// Typed declarations. A default of nullopt makes the key required.
property text(std::string key, std::string description, std::optional<std::string> default_value);
property secret(std::string key, std::string description, std::optional<std::string> default_value = std::nullopt);
property integer(std::string key, std::string description, std::int64_t default_value, std::int64_t min,
                 std::int64_t max);
/// Milliseconds (keys ending in _ms), read with settings::millis.
property millis(std::string key, std::string description, std::int64_t default_value, std::int64_t min = 0,
                std::int64_t max = max_millis);
/// A YAML sequence or comma-separated text, read with settings::list.
property list(std::string key, std::string description, std::string default_value = "");

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
  /// A key declared as an integer (load has checked its bounds), as T; a key declared as text
  /// is an error.
  template <std::integral T = std::int64_t>
  T integer(const std::string& key) const {
    const std::int64_t n = declared_integer(key);
    if (!std::in_range<T>(n)) throw error(key + ": " + std::to_string(n) + " does not fit here");
    return static_cast<T>(n);
  }
  /// Any key as an integer in [min, max] (checked now, not at load).
  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t max) const;
  /// A key declared as millis (or integer) within its bounds; any other key in [0, max_millis].
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
  /// A key declared as an integer, within its declared bounds; an error for any other key.
  std::int64_t declared_integer(const std::string& key) const;

  static settings resolve(const std::vector<property>& schema, std::string_view yaml, const std::string& path,
                          const std::map<std::string, std::string>& from_env,
                          const std::vector<std::string>& passthrough_prefixes);

  std::map<std::string, std::string> values_;
  std::map<std::string, bool> secret_;
  std::map<std::string, std::string> files_;                             // secret key -> the file its value came from
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> bounds_;  // integer keys
};

/// The config path from `--config PATH` in argv, else SPLITVOTE_CONFIG, else empty.
std::string config_path_from(int argc, char** argv);

}  // namespace splitvote::config
