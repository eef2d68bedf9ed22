// What the tests hand out and send (tokens, secrets, votes), recorded for the log scan (security.logs).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::testing {

/// $SPLITVOTE_SECRETS, else the build's test-tmp/secrets.jsonl. One JSON object a line:
/// {"secret": "..."} or {"actor_id": "...", "choice": "..."}. Cleared when a CTest run starts
/// (e2e.reset_recordings), appended to by every test process.
std::filesystem::path recordings_path();

/// A secret no log line may contain: a token, a password, a key. http_client records the tokens
/// it receives and sends; the test stack records the actor secret and the consumers' keys.
void record_secret(std::string_view secret);

/// A vote a test cast: no log line may name the actor next to its choice.
void record_vote(std::string_view actor_id, std::string_view choice);

struct recorded_vote {
  std::string actor_id;
  std::string choice;
};

struct recordings {
  std::vector<std::string> secrets;  // distinct, in the order first recorded
  std::vector<recorded_vote> votes;  // distinct pairs
};

/// Reads a recordings file; a missing file gives none, a malformed line is an exception.
recordings read_recordings(const std::filesystem::path& path);

}  // namespace splitvote::testing
