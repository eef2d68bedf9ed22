// libFuzzer target: the ingest API's body parsers. A problem_error is the documented answer
// to bad input (the router turns it into a 4xx); any other exception or a crash is a finding.
#include "splitvote/http/message.hpp"
#include "splitvote/ingest/requests.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

using namespace splitvote;

namespace {

void expect(bool ok) {
  if (!ok) std::abort();  // an accepted request that breaks what the handlers rely on
}

void poll(std::string_view body) {
  try {
    const auto r = ingest::parse_poll_request(body);
    expect(!r.title.empty() && r.title.size() <= ingest::max_title_bytes);
    expect(r.choices.size() >= 2 && r.choices.size() <= ingest::max_choices);
    expect(std::set<std::string>(r.choices.begin(), r.choices.end()).size() == r.choices.size());
    expect(r.eligible_actors.size() <= ingest::max_eligible);
    // A tokens poll always has someone to give tokens to.
    expect(r.voter_auth != catalog::voter_auth::tokens || !r.eligible_actors.empty());
    r.privacy.validate();  // throws std::invalid_argument (a finding) if an invalid policy got through
  } catch (const http::problem_error& e) {
    expect(e.status == 400);
  }
}

void vote(std::string_view body) {
  try {
    const auto r = ingest::parse_vote_request(body);
    expect(!r.actor_id || (!r.actor_id->empty() && r.actor_id->size() <= ingest::max_actor_id_bytes));
    expect(!r.choice.empty() && r.choice.size() <= ingest::max_label_bytes);
  } catch (const http::problem_error& e) {
    expect(e.status == 400);
  }
}

void timestamp(std::string_view text) {
  // Whatever is accepted is a time we can write back and read again (closes_at in answers).
  if (const auto t = ingest::parse_rfc3339(text)) expect(ingest::parse_rfc3339(ingest::format_rfc3339(*t)) == t);
}

void content_type(std::string_view text) {
  try {
    ingest::require_json(text);
  } catch (const http::problem_error& e) {
    expect(e.status == 415);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  poll(input);
  vote(input);
  timestamp(input);
  content_type(input);
  return 0;
}
