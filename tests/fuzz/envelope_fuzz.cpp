// libFuzzer target: what the consumers do with a message from the votes topic (envelope,
// then each half, opened with a fixed test key when sealed). decode_error is the documented
// answer to bad bytes (the message is skipped); any other exception or a crash is a finding.
#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/envelope/seal.hpp"
#include "test_key.hpp"

#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace splitvote;

namespace {

const std::vector<envelope::keypair> keys = {fuzz::test_keypair()};

void expect(bool ok) {
  if (!ok) std::abort();  // decoded, but not what the consumers rely on
}

void actor_half(const std::string& half, envelope::sealing sealed) {
  try {
    const auto a = envelope::decode_actor_part(envelope::readable_half(half, sealed, keys));
    expect(envelope::decode_actor_part(envelope::encode(a)).actor_key == a.actor_key);
  } catch (const envelope::decode_error&) {
  }
}

void ballot_half(const std::string& half, envelope::sealing sealed) {
  try {
    const auto list = envelope::decode_ballot_list(envelope::readable_half(half, sealed, keys));
    expect(!list.ballots.empty() && list.ballots.size() <= envelope::max_ballots);
    const auto again = envelope::decode_ballot_list(envelope::encode(list.ballots, list.cover));
    expect(again.ballots.size() == list.ballots.size() && again.cover == list.cover);
  } catch (const envelope::decode_error&) {
  }
}

}  // namespace

/// protobuf logs an ERROR line for every string field with invalid UTF-8 (poll_id): at
/// thousands of inputs a second that is most of the run's time and a log of gigabytes.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto env = envelope::decode(data, size);
    expect(!env.poll_id.empty() && env.poll_id.size() <= 64);
    actor_half(env.actor_part, env.sealed);
    ballot_half(env.ballot_list, env.sealed);
    const std::string again = envelope::encode(env);
    expect(envelope::decode(again.data(), again.size()).poll_id == env.poll_id);
  } catch (const envelope::decode_error&) {
  }
  // The halves on their own too, so the fuzzer reaches their parsers without the wrapping.
  actor_half(bytes, envelope::sealing::none);
  ballot_half(bytes, envelope::sealing::none);
  actor_half(bytes, envelope::sealing::sealed_box);
  ballot_half(bytes, envelope::sealing::shared_key);
  ballot_half(bytes, envelope::sealing::shared_key_padded);
  try {
    (void)envelope::unpad(bytes);  // the padding reader on raw bytes
  } catch (const envelope::decode_error&) {
  }
  return 0;
}
