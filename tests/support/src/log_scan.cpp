#include "splitvote/testing/log_scan.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace splitvote::testing {

namespace {

/// Key names that would carry an actor, a choice or a token, however spelt ("actor_id",
/// "voter_tokens", "Choice"): a substring of the lower-cased key.
constexpr std::string_view forbidden_key_parts[] = {"actor", "choice", "token"};

/// Keys that contain one of those words but carry neither: ingest's poll_created logs
/// "choices" as the number of labels a poll has. Allowed only with a number as the value; the
/// labels themselves (a list or a string) under the same key are a finding.
bool allowed_key(std::string_view lower_key, const boost::json::value* value) {
  return lower_key == "choices" && value && value->is_number();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool forbidden_key(std::string_view key, const boost::json::value* value) {
  const std::string k = lower(key);
  if (allowed_key(k, value)) return false;
  return std::any_of(std::begin(forbidden_key_parts), std::end(forbidden_key_parts),
                     [&](std::string_view part) { return k.find(part) != std::string::npos; });
}

/// Where free text splits into words: blanks, quotes, brackets, separators. An actor id or a
/// label quoted, bracketed or after "actor=" or "actor:" is a word of its own; one inside a
/// longer word ("b1" in "b12") is not.
bool separator(char ch) {
  return std::isspace(static_cast<unsigned char>(ch)) ||
         std::string_view("\"'`,;:()[]{}<>=/\\|").find(ch) != std::string_view::npos;
}

/// The words of `text`, a trailing full stop or similar removed ("voted pizza." -> "pizza").
template <typename F>
void for_each_word(std::string_view text, F&& f) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && separator(text[i])) ++i;
    std::size_t j = i;
    while (j < text.size() && !separator(text[j])) ++j;
    std::string_view word = text.substr(i, j - i);
    while (!word.empty() && std::string_view(".!?").find(word.back()) != std::string_view::npos) word.remove_suffix(1);
    if (!word.empty()) f(word);
    i = j;
  }
}

void walk(const boost::json::value& v, std::vector<std::string_view>& strings, std::vector<std::string>& bad_keys) {
  if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) {
      if (forbidden_key(kv.key(), &kv.value())) bad_keys.emplace_back(kv.key());
      walk(kv.value(), strings, bad_keys);
    }
  } else if (const auto* a = v.if_array()) {
    for (const auto& item : *a) walk(item, strings, bad_keys);
  } else if (const auto* s = v.if_string()) {
    strings.emplace_back(s->data(), s->size());
  }
}

/// Outside JSON a key is a quoted word followed by ':' ("\"token\": ...") or a bare word
/// followed by '=' ("token=...").
void text_keys(std::string_view line, std::vector<std::string>& bad_keys) {
  for (std::size_t open = line.find('"'); open != std::string_view::npos;) {
    const std::size_t close = line.find('"', open + 1);
    if (close == std::string_view::npos) break;
    std::size_t after = close + 1;
    while (after < line.size() && (line[after] == ' ' || line[after] == '\t')) ++after;
    if (after < line.size() && line[after] == ':' && forbidden_key(line.substr(open + 1, close - open - 1), nullptr))
      bad_keys.emplace_back(line.substr(open + 1, close - open - 1));
    open = line.find('"', close + 1);
  }
  for (std::size_t eq = line.find('='); eq != std::string_view::npos; eq = line.find('=', eq + 1)) {
    std::size_t start = eq;
    while (start > 0 && (std::isalnum(static_cast<unsigned char>(line[start - 1])) || line[start - 1] == '_' ||
                         line[start - 1] == '.' || line[start - 1] == '-'))
      --start;
    if (start < eq && forbidden_key(line.substr(start, eq - start), nullptr))
      bad_keys.emplace_back(line.substr(start, eq - start));
  }
}

}  // namespace

struct log_scanner::index {
  std::vector<std::string> secrets;
  /// Secrets by their first min_secret_length bytes: each position of a line costs one lookup,
  /// however many secrets there are (thousands of tokens after a full run).
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_prefix;
  std::unordered_map<std::string, std::vector<std::string>> choices_of;  // actor -> labels voted
  std::size_t votes = 0;
};

log_scanner::log_scanner(const recordings& r) {
  auto x = std::make_unique<index>();
  std::set<std::string> seen;
  for (const auto& s : r.secrets)
    if (s.size() >= min_secret_length && seen.insert(s).second) x->secrets.push_back(s);
  for (std::size_t i = 0; i < x->secrets.size(); ++i)
    x->by_prefix[std::string_view(x->secrets[i]).substr(0, min_secret_length)].push_back(i);
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& v : r.votes)
    if (!v.actor_id.empty() && !v.choice.empty() && pairs.emplace(v.actor_id, v.choice).second) {
      x->choices_of[v.actor_id].push_back(v.choice);
      ++x->votes;
    }
  index_ = std::move(x);
}

log_scanner::~log_scanner() = default;

std::vector<finding> log_scanner::check(std::string_view line) const {
  std::vector<finding> out;
  const index& x = *index_;

  // secret: raw bytes, so a secret is found in JSON and in free text alike. The secrets the
  // system hands out are hex and the test secrets plain ASCII: JSON escaping cannot hide them.
  std::set<std::size_t> found;
  for (std::size_t i = 0; i + min_secret_length <= line.size(); ++i) {
    const auto it = x.by_prefix.find(line.substr(i, min_secret_length));
    if (it == x.by_prefix.end()) continue;
    for (const std::size_t s : it->second)
      if (line.substr(i, x.secrets[s].size()) == x.secrets[s] && found.insert(s).second)
        out.push_back({{}, 0, "secret", "secret " + redacted(x.secrets[s])});
  }

  // A service's log line is a JSON object: its keys and string values are compared as such.
  // Anything else (librdkafka, PostgreSQL, a line cut short by a kill) is free text.
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(line, ec);
  const bool is_json = !ec && parsed.is_object();
  std::vector<std::string_view> strings;
  std::vector<std::string> bad_keys;
  if (is_json)
    walk(parsed, strings, bad_keys);
  else
    text_keys(line, bad_keys);
  for (const auto& k : std::set<std::string>(bad_keys.begin(), bad_keys.end()))
    out.push_back({{}, 0, "key", "key \"" + k + "\""});

  // vote: the line names an actor and one of the labels that actor voted. Compared are whole
  // words, never substrings: the tests' actor ids are short ("b1", "actor-7") and would be
  // found inside other words. In JSON the words are each string value whole (a label may have
  // blanks) and the words inside it (an error message that quotes both); in free text, the
  // words of the line. An actor and a label that are the same text must occur twice.
  std::unordered_map<std::string_view, int> seen;
  if (is_json) {
    for (const auto s : strings) {
      std::unordered_set<std::string_view> words{s};
      for_each_word(s, [&](std::string_view w) { words.insert(w); });
      for (const auto w : words) ++seen[w];
    }
  } else {
    for_each_word(line, [&](std::string_view w) { ++seen[w]; });
  }
  std::set<std::pair<std::string, std::string>> reported;
  for (const auto& [word, count] : seen) {
    const auto it = x.choices_of.find(std::string(word));
    if (it == x.choices_of.end()) continue;
    for (const auto& choice : it->second) {
      const auto c = seen.find(choice);
      const bool named = c != seen.end() && (choice != word || count >= 2);
      if (named && reported.emplace(it->first, choice).second)
        // In full, unlike a secret: the tests' actors and labels are made up, and already in
        // responses.jsonl; the finding is the two side by side in a log.
        out.push_back({{}, 0, "vote", "actor \"" + it->first + "\" next to its choice \"" + choice + "\""});
    }
  }
  return out;
}

scan_result log_scanner::scan(const std::vector<std::filesystem::path>& files) const {
  scan_result result;
  result.secrets = index_->secrets.size();
  result.votes = index_->votes;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      result.unreadable.push_back(file);
      continue;
    }
    ++result.files;
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      for (auto& f : check(line)) {
        f.file = file;
        f.line = number;
        result.findings.push_back(std::move(f));
      }
    }
    result.lines += number;
  }
  return result;
}

std::string redacted(std::string_view secret) {
  const std::size_t shown = std::min<std::size_t>(6, secret.size());
  // Appended, not "\"" + ... chains: GCC 12 at -O3 reports a false -Wrestrict on
  // operator+(const char*, std::string&&) (GCC bug 105329).
  std::string out = "\"";
  out.append(secret.substr(0, shown)).append(shown < secret.size() ? "..." : "").append("\" (");
  return out.append(std::to_string(secret.size())).append(" chars)");
}

}  // namespace splitvote::testing
