#include "splitvote/envelope/envelope.hpp"
#include "splitvote/envelope/actor_part.hpp"
#include "splitvote/envelope/ballot_list.hpp"
#include "splitvote/privacy/actor_key.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <set>

using namespace splitvote;

TEST_CASE("an envelope round-trips with both halves intact", "[unit]") {
  auto rng = random::seeded_source(1);
  const auto key = privacy::derive_actor_key("secret-secret-secret", "poll", "alice");
  const envelope::actor_part actor{key, random::random_id(*rng)};
  const auto ballots = envelope::make_ballots({2, 0, 1, 2}, *rng);
  const std::string poll = "0b7e3b2c-1111-2222-3333-444455556666";
  const std::string bytes =
      envelope::encode(envelope::envelope{poll, envelope::encode(actor), envelope::encode(ballots)});

  const auto env = envelope::decode(bytes.data(), bytes.size());
  CHECK(env.poll_id == poll);
  const auto actor2 = envelope::decode_actor_part(env.actor_part);
  CHECK(actor2.actor_key == key);
  CHECK(actor2.entry_id == actor.entry_id);
  const auto list = envelope::decode_ballot_list(env.ballot_list);
  CHECK_FALSE(list.cover);
  const auto& ballots2 = list.ballots;
  REQUIRE(ballots2.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(ballots2[i].choice == ballots[i].choice);
    CHECK(ballots2[i].random_id == ballots[i].random_id);
  }
  CHECK(ballots2[0].random_id != ballots2[1].random_id);
}

TEST_CASE("what is not an envelope is a decode_error, never a crash", "[unit]") {
  const std::string garbage = "\xff\xff\xff\xff not protobuf";
  CHECK_THROWS_AS(envelope::decode(garbage.data(), garbage.size()), envelope::decode_error);
  CHECK_THROWS_AS(envelope::decode_actor_part("\x0a\x02zz"), envelope::decode_error);  // key of 2 bytes
  CHECK_THROWS_AS(envelope::decode_ballot_list(""), envelope::decode_error);           // no ballots
  const std::string no_poll = envelope::encode(envelope::envelope{"", "", ""});
  CHECK_THROWS_AS(envelope::decode(no_poll.data(), no_poll.size()), envelope::decode_error);
}

TEST_CASE("actor keys depend on secret, poll and actor", "[unit]") {
  const auto a = privacy::derive_actor_key("secret-one-123456", "poll-1", "alice");
  CHECK(a == privacy::derive_actor_key("secret-one-123456", "poll-1", "alice"));
  CHECK(a != privacy::derive_actor_key("secret-two-123456", "poll-1", "alice"));
  CHECK(a != privacy::derive_actor_key("secret-one-123456", "poll-2", "alice"));
  CHECK(a != privacy::derive_actor_key("secret-one-123456", "poll-1", "bob"));
}

#include "splitvote/envelope/seal.hpp"

TEST_CASE("a sealed half opens only with its consumer's secret key", "[unit]") {
  const auto pollbook = envelope::generate_keypair();
  const auto ballotbox = envelope::generate_keypair();
  const std::string half = "the actor half";
  const auto box = envelope::seal(half, pollbook.pk);
  CHECK(box.find(half) == std::string::npos);
  CHECK(envelope::open_sealed(box, pollbook) == half);
  CHECK_THROWS_AS(envelope::open_sealed(box, ballotbox), envelope::decode_error);
  std::string tampered = box;
  tampered.back() ^= 1;
  CHECK_THROWS_AS(envelope::open_sealed(tampered, pollbook), envelope::decode_error);
  CHECK(envelope::seal(half, pollbook.pk) != box);  // an ephemeral key per box
  using envelope::sealing;
  CHECK(envelope::readable_half(half, sealing::none, {}) == half);
  CHECK_THROWS_AS(envelope::readable_half(box, sealing::sealed_box, {}), envelope::decode_error);
  // During a rotation the consumer holds the new key and the old one: both kinds open.
  CHECK(envelope::readable_half(box, sealing::sealed_box, {ballotbox, pollbook}) == half);
  CHECK_THROWS_AS(envelope::readable_half(box, sealing::sealed_box, {ballotbox}), envelope::decode_error);
  CHECK_THROWS_AS(envelope::readable_half(box, sealing::shared_key, {pollbook}), envelope::decode_error);
}

TEST_CASE("a sealer's halves open only with their consumer's key, share an ephemeral key per period, never a nonce",
          "[unit]") {
  using envelope::sealing;
  const auto pollbook = envelope::generate_keypair();
  const auto ballotbox = envelope::generate_keypair();
  const std::string half = "the actor half";
  envelope::sealer s(pollbook.pk, 3);  // a new ephemeral key pair every third half
  std::vector<std::string> boxes;
  for (int i = 0; i < 7; ++i) boxes.push_back(s.seal(half));
  for (const auto& box : boxes) {
    CHECK(box.size() == half.size() + 32 + 24 + 16);  // one size for one plaintext length
    CHECK(box.find(half) == std::string::npos);
    CHECK(envelope::open_shared(box, pollbook) == half);
    CHECK(envelope::readable_half(box, sealing::shared_key, {ballotbox, pollbook}) == half);  // during a rotation
    CHECK_THROWS_AS(envelope::open_shared(box, ballotbox), envelope::decode_error);
    CHECK_THROWS_AS(envelope::open_sealed(box, pollbook), envelope::decode_error);  // not a sealed box
  }
  const auto epk = [](const std::string& b) { return b.substr(0, 32); };
  const auto nonce = [](const std::string& b) { return b.substr(32, 24); };
  CHECK(epk(boxes[0]) == epk(boxes[1]));
  CHECK(epk(boxes[0]) == epk(boxes[2]));
  CHECK(epk(boxes[2]) != epk(boxes[3]));  // rotated after 3 uses
  CHECK(epk(boxes[3]) == epk(boxes[5]));
  CHECK(epk(boxes[5]) != epk(boxes[6]));
  std::set<std::string> nonces;
  for (const auto& b : boxes) nonces.insert(nonce(b));
  CHECK(nonces.size() == boxes.size());
  for (std::size_t at : {std::size_t{0}, std::size_t{40}, boxes[0].size() - 1}) {  // key, nonce, ciphertext
    std::string tampered = boxes[0];
    tampered[at] ^= 1;
    CHECK_THROWS_AS(envelope::open_shared(tampered, pollbook), envelope::decode_error);
  }
  CHECK_THROWS_AS(envelope::open_shared(boxes[0].substr(0, 71), pollbook), envelope::decode_error);
  // An envelope says how it was sealed; a reader of either kind gets the right opener.
  const std::string poll = "6a0b8a4e-0000-4000-8000-000000000001";
  const auto encoded = envelope::encode({poll, boxes[0], boxes[1], sealing::shared_key});
  const auto decoded = envelope::decode(encoded.data(), encoded.size());
  CHECK(decoded.sealed == sealing::shared_key);
  const auto legacy = envelope::encode({poll, envelope::seal(half, pollbook.pk), "", sealing::sealed_box});
  CHECK(envelope::decode(legacy.data(), legacy.size()).sealed == sealing::sealed_box);
}

TEST_CASE("a ballot half's length depends on the number of ballots only, never on the choices", "[unit]") {
  auto rng = random::seeded_source(3);
  std::set<std::size_t> sizes;
  for (std::uint32_t a = 0; a < 64; a += 7)
    for (std::uint32_t b = 0; b < 64; b += 9)
      sizes.insert(envelope::encode(envelope::make_ballots({a, b}, *rng)).size());
  CHECK(sizes.size() == 1);
  const auto cover = envelope::encode(envelope::make_ballots({0, 0}, *rng), true);
  CHECK(cover.size() == *sizes.begin());  // cover and vote alike
}

TEST_CASE("a sealer's shared key is wiped once its period is over, used or not", "[unit]") {
  const auto pollbook = envelope::generate_keypair();
  envelope::sealer s(pollbook.pk, 1000, std::chrono::seconds(10));
  CHECK_FALSE(s.holding_key());
  const auto first = s.seal("half");
  CHECK(s.holding_key());
  const auto made = envelope::sealer::clock::now();
  s.forget_expired(made + std::chrono::seconds(5));  // within the period: kept
  CHECK(s.holding_key());
  CHECK(s.seal("half").substr(0, 32) == first.substr(0, 32));
  s.forget_expired(made + std::chrono::seconds(11));  // over: wiped, though nothing was sealed since
  CHECK_FALSE(s.holding_key());
  const auto next = s.seal("half");
  CHECK(next.substr(0, 32) != first.substr(0, 32));  // a new ephemeral key
  CHECK(envelope::open_shared(next, pollbook) == "half");
  CHECK(envelope::open_shared(first, pollbook) == "half");  // the consumer still opens the old period's halves
}

TEST_CASE("padded halves: every ballot half of a poll seals to one length, whatever its number of ballots", "[unit]") {
  using envelope::sealing;
  const auto ballotbox = envelope::generate_keypair();
  envelope::sealer s(ballotbox.pk);
  auto rng = random::seeded_source(9);
  // The defaults: Poisson(2) capped at 8, so 1 to 9 ballots; three choices.
  const std::size_t block = envelope::ballot_half_block(1 + 8, 3);
  std::set<std::size_t> lengths;
  for (std::size_t n = 1; n <= 9; ++n) {
    std::vector<std::uint32_t> choices;
    for (std::size_t i = 0; i < n; ++i) choices.push_back(static_cast<std::uint32_t>(i % 3));
    for (const bool cover : {false, true}) {
      const auto list = envelope::encode(envelope::make_ballots(choices, *rng), cover);
      const auto padded = envelope::pad(list, block);
      CHECK(padded.size() == block);
      const auto half = s.seal(padded);
      lengths.insert(half.size());
      const auto read =
          envelope::decode_ballot_list(envelope::readable_half(half, sealing::shared_key_padded, {ballotbox}));
      CHECK(read.ballots.size() == n);
      CHECK(read.cover == cover);
    }
  }
  CHECK(lengths.size() == 1);
  // Without padding the length told the number of ballots.
  CHECK(envelope::encode(envelope::make_ballots({0}, *rng)).size() !=
        envelope::encode(envelope::make_ballots({0, 1}, *rng)).size());
  // Malformed padding is a decode error, never a crash; an empty plaintext pads to one block.
  CHECK_THROWS_AS(envelope::unpad(std::string(8, '\0')), envelope::decode_error);
  CHECK_THROWS_AS(envelope::unpad(""), envelope::decode_error);
  CHECK(envelope::unpad(envelope::pad("", 4)).empty());
  CHECK(envelope::pad("abcd", 4).size() == 8);  // always at least one byte of padding
  const auto sealed_junk = s.seal(std::string(8, '\0'));
  CHECK_THROWS_AS(envelope::readable_half(sealed_junk, sealing::shared_key_padded, {ballotbox}),
                  envelope::decode_error);
  // The poll's number of choices travels in the ballot half (for the ballotbox's decoys).
  CHECK(envelope::decode_ballot_list(envelope::encode(envelope::make_ballots({0, 2}, *rng), false, 3)).choices == 3);
  CHECK(envelope::decode_ballot_list(envelope::encode(envelope::make_ballots({0}, *rng))).choices == 0);
  // An envelope says it is padded.
  const std::string poll = "6a0b8a4e-0000-4000-8000-000000000001";
  const auto encoded = envelope::encode({poll, "a", "b", sealing::shared_key_padded});
  CHECK(envelope::decode(encoded.data(), encoded.size()).sealed == sealing::shared_key_padded);
}

TEST_CASE("a secret key wipes its bytes when it goes", "[unit]") {
  alignas(envelope::secret_key) std::array<unsigned char, sizeof(envelope::secret_key)> storage{};
  auto* key = std::construct_at(reinterpret_cast<envelope::secret_key*>(storage.data()));
  std::fill(key->begin(), key->end(), static_cast<unsigned char>(0xAB));
  const envelope::secret_key copy = *key;
  CHECK(copy[0] == 0xAB);
  std::destroy_at(key);
  CHECK(std::all_of(storage.begin(), storage.end(), [](unsigned char b) { return b == 0; }));
}
