#include "splitvote/testing/log_scan.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdlib>
#include <fstream>

using namespace splitvote::testing;

namespace {

const std::string admin_token = "3f9a1c0b7e5d4a2f8c6b1e0d9a7f5c3b";
const std::string actor_secret = "test-secret-0123456789abcdef";

recordings planted() {
  recordings r;
  r.secrets = {admin_token, actor_secret, "short"};
  r.votes = {{"b1", "pizza"}, {"actor-7", "salad"}, {"same", "same"}, {"c3", "Thai food"}};
  return r;
}

std::vector<std::string> rules(const log_scanner& s, std::string_view line) {
  std::vector<std::string> out;
  for (const auto& f : s.check(line)) out.push_back(f.rule);
  return out;
}

using rules_t = std::vector<std::string>;

}  // namespace

TEST_CASE("log scan: clean service lines pass", "[unit]") {
  const log_scanner s(planted());
  for (
      const char* line : {
          R"({"ts":"2024-01-01T00:00:00.000Z","level":"info","request_id":"r1","method":"POST","route":"/v1/polls/{id}/votes","status":202,"ms":1.5,"event":"http_request","service":"ingest"})",
          R"({"ts":"2024-01-01T00:00:00.000Z","level":"info","poll_id":"7c1e","choices":3,"eligible":10,"event":"poll_created","service":"ingest"})",
          R"({"level":"info","effective":"privacy.actor_secret = ****\nhttp.port = 8080\n","event":"config"})",
          R"({"level":"warn","error":"b12 is not b1's pizzas","event":"x"})",  // words, not substrings
      }) {
    INFO(line);
    CHECK(s.check(line).empty());
  }
  CHECK(s.check("%3|1700000000.000|FAIL|rdkafka#producer-1| 127.0.0.1:9092/bootstrap: Connection refused").empty());
  CHECK(s.check("splitvote-keygen: wrote /tmp/x/pollbook.key and /tmp/x/pollbook.pub").empty());
  CHECK(s.check("b1 voted").empty());             // an actor alone
  CHECK(s.check("pizza is good").empty());        // a label alone
  CHECK(s.check("the secret is short").empty());  // below min_secret_length: not looked for
  CHECK(s.check("same").empty());                 // an actor whose label is the same text must appear twice
}

TEST_CASE("log scan: a recorded secret anywhere in a line is a finding, redacted", "[unit]") {
  const log_scanner s(planted());
  const auto f = s.check(R"({"level":"error","error":"bad header Bearer )" + admin_token + R"(","event":"x"})");
  REQUIRE(f.size() == 1);
  CHECK(f[0].rule == "secret");
  CHECK(f[0].what.find(admin_token) == std::string::npos);
  CHECK(f[0].what.find("\"3f9a1c...\" (32 chars)") != std::string::npos);
  CHECK(rules(s, "DETAIL: key=" + actor_secret + "xyz") == rules_t{"secret"});  // free text, inside a word
  CHECK(rules(s, admin_token.substr(0, 31)).empty());                           // a prefix is not the secret
  CHECK(redacted("abc") == "\"abc\" (3 chars)");
}

TEST_CASE("log scan: an actor next to its own choice is a finding", "[unit]") {
  const log_scanner s(planted());
  CHECK(rules(s, R"({"level":"info","who":"b1","what":"pizza","event":"x"})") == rules_t{"vote"});
  CHECK(rules(s, R"({"level":"info","detail":["c3",{"label":"Thai food"}]})") ==
        rules_t{"vote"});  // nested, label with a blank
  CHECK(rules(s, R"({"level":"error","error":"cannot store 'actor-7' -> salad.","event":"x"})") == rules_t{"vote"});
  CHECK(rules(s, R"(ERROR: vote of "b1" for "pizza" failed)") == rules_t{"vote"});  // free text
  CHECK(rules(s, R"({"a":"same","b":"same"})") == rules_t{"vote"});
  // An actor next to someone else's choice says nothing about that actor.
  CHECK(s.check(R"({"level":"info","who":"b1","what":"salad"})").empty());
}

TEST_CASE("log scan: keys that name an actor, a choice or a token are findings", "[unit]") {
  const log_scanner s(planted());
  for (const char* key : {"actor_id", "actor", "choice", "token", "admin_token", "voter_tokens", "Choice"}) {
    INFO(key);
    CHECK(rules(s, std::string(R"({"level":"info","event":"x",")") + key + R"(":"?"})") == rules_t{"key"});
  }
  CHECK(rules(s, R"({"level":"info","fields":{"actor_key":"00ff"}})") == rules_t{"key"});  // at any depth
  // "choices" is poll_created's count of labels; the labels themselves under it are not allowed.
  CHECK(s.check(R"({"choices":3})").empty());
  CHECK(rules(s, R"({"choices":["pizza","salad"]})") == rules_t{"key"});
  // Outside JSON: a quoted key before ':' or a word before '='.
  CHECK(rules(s, R"(truncated {"ts":"2024","actor_id": "zz)") == rules_t{"key"});
  CHECK(rules(s, "request failed token=abc") == rules_t{"key"});
  CHECK(s.check(R"(note: "tokenless" is a word, as is choosing)").empty());
}

TEST_CASE("log scan: files, lines and findings with their places", "[unit]") {
  const auto path =
      std::filesystem::temp_directory_path() / ("splitvote-log-scan-" + std::to_string(::getpid()) + ".log");
  std::ofstream(path) << R"({"level":"info","event":"started"})"
                      << "\n"
                      << R"({"level":"info","event":"leak","detail":")" << actor_secret << "\"}\r\n"
                      << "\n"
                      << R"({"level":"info","event":"x","choice":"pizza","who":"b1"})"
                      << "\n";
  const auto result = log_scanner(planted()).scan({path, path.string() + ".missing"});
  std::filesystem::remove(path);
  CHECK(result.files == 1);
  CHECK(result.lines == 4);
  CHECK(result.secrets == 2);  // "short" is not looked for
  CHECK(result.votes == 4);
  CHECK(result.unreadable.size() == 1);
  REQUIRE(result.findings.size() == 3);
  CHECK(result.findings[0].line == 2);
  CHECK(result.findings[0].rule == "secret");
  CHECK(result.findings[1].line == 4);
  CHECK(result.findings[1].rule == "key");
  CHECK(result.findings[2].rule == "vote");
  CHECK(result.findings[2].file == path);
}

TEST_CASE("recordings: secrets and votes round-trip through the file, distinct", "[unit]") {
  const auto path =
      std::filesystem::temp_directory_path() / ("splitvote-recordings-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  ::setenv("SPLITVOTE_SECRETS", path.c_str(), 1);
  record_secret(admin_token);
  record_secret(admin_token);
  record_secret("");
  record_vote("b1", "pizza");
  record_vote("b1", "pizza");
  record_vote("b1", "salad \"quoted\"");
  ::unsetenv("SPLITVOTE_SECRETS");
  const auto r = read_recordings(path);
  CHECK(r.secrets == std::vector<std::string>{admin_token});
  REQUIRE(r.votes.size() == 2);
  CHECK(r.votes[1].choice == "salad \"quoted\"");
  std::ofstream(path, std::ios::app) << "{\"neither\":1}\n";
  CHECK_THROWS(read_recordings(path));
  std::filesystem::remove(path);
  CHECK(read_recordings(path).secrets.empty());  // none recorded yet
}
