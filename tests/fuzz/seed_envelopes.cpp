// Writes the envelope target's seed corpus with the real encoder (plain and sealed to the
// fuzz test key): fuzz-seed-envelopes tests/fuzz/corpus/envelope
#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/envelope/envelope.hpp"
#include "splitvote/envelope/seal.hpp"
#include "test_key.hpp"

#include <fstream>
#include <iostream>
#include <string>

using namespace splitvote;

namespace {

void write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz-seed-envelopes DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  auto rng = random::seeded_source(4);
  const std::string poll = "0b7e3b2c-1111-2222-3333-444455556666";
  envelope::actor_part actor;
  for (std::size_t i = 0; i < actor.actor_key.size(); ++i) actor.actor_key[i] = std::byte(i);
  actor.entry_id = random::random_id(*rng);
  const auto ballots = envelope::encode(envelope::make_ballots({2, 0, 1, 2}, *rng));
  const auto cover_actor = envelope::encode(envelope::actor_part{actor.actor_key, actor.entry_id, true});
  const auto cover_ballots = envelope::encode(envelope::make_ballots({0, 1}, *rng), true);
  const auto key = fuzz::test_keypair().pk;

  const auto none = envelope::sealing::none;
  write(dir, "plain", envelope::encode({poll, envelope::encode(actor), ballots, none}));
  write(dir, "sealed",
        envelope::encode({poll, envelope::seal(envelope::encode(actor), key), envelope::seal(ballots, key),
                          envelope::sealing::sealed_box}));
  envelope::sealer shared(key);
  write(dir, "sealed-shared-key",
        envelope::encode(
            {poll, shared.seal(envelope::encode(actor)), shared.seal(ballots), envelope::sealing::shared_key}));
  write(dir, "cover", envelope::encode({poll, cover_actor, cover_ballots, none}));
  write(dir, "cover-ballots-only", envelope::encode({poll, "", cover_ballots, none}));
  write(dir, "no-poll-id", envelope::encode({"", envelope::encode(actor), ballots, none}));
  write(dir, "actor-part", envelope::encode(actor));
  write(dir, "ballot-list", ballots);
  write(dir, "garbage", "\xff\xff\xff\xff not protobuf");
  return 0;
}
