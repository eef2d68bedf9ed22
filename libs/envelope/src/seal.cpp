#include "splitvote/envelope/seal.hpp"

#include "splitvote/envelope/envelope.hpp"

#include <sodium.h>

#include <sys/stat.h>
#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

namespace splitvote::envelope {

secret_key::~secret_key() { sodium_memzero(data(), size()); }
namespace {

void ensure_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

/// Reads 32 key bytes from 64 hex digits into `key`; the text read is wiped (it may be a secret key).
void read_hex_key(const std::string& path, std::array<unsigned char, 32>& key) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read key file " + path);
  std::string hex;
  in >> hex;
  std::size_t len = 0;
  const bool ok = hex.size() == 64 &&
                  sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &len, nullptr) == 0 &&
                  len == key.size();
  sodium_memzero(hex.data(), hex.size());
  if (!ok) throw std::runtime_error("key file " + path + " must hold 64 hex digits");
}

void write_hex(const std::string& path, const unsigned char* key, mode_t mode) {
  std::array<char, 65> hex{};
  sodium_bin2hex(hex.data(), hex.size(), key, 32);
  {
    std::ofstream out(path, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write key file " + path);
    out << hex.data() << "\n";
  }
  sodium_memzero(hex.data(), hex.size());
  ::chmod(path.c_str(), mode);
}

}  // namespace

keypair generate_keypair() {
  ensure_sodium();
  keypair k;
  crypto_box_keypair(k.pk.data(), k.sk.data());
  return k;
}

public_key load_public_key(const std::string& path) {
  public_key key{};
  read_hex_key(path, key);
  return key;
}

keypair load_keypair(const std::string& secret_key_path) {
  ensure_sodium();
  keypair k;
  read_hex_key(secret_key_path, k.sk);
  crypto_scalarmult_base(k.pk.data(), k.sk.data());
  return k;
}

std::vector<keypair> load_keypairs(const std::string& secret_key_paths) {
  std::vector<keypair> out;
  std::size_t start = 0;
  while (start < secret_key_paths.size()) {
    const auto comma = secret_key_paths.find(',', start);
    const auto path = secret_key_paths.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!path.empty()) out.push_back(load_keypair(path));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void write_keypair(const keypair& k, const std::string& path_prefix) {
  write_hex(path_prefix + ".key", k.sk.data(), 0600);
  write_hex(path_prefix + ".pub", k.pk.data(), 0644);
}

std::string seal(std::string_view plaintext, const public_key& to) {
  ensure_sodium();
  std::string box(plaintext.size() + crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal(reinterpret_cast<unsigned char*>(box.data()),
                      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), to.data()) != 0)
    throw std::runtime_error("crypto_box_seal failed");
  return box;
}

std::string open_sealed(std::string_view box, const keypair& mine) {
  ensure_sodium();
  if (box.size() < crypto_box_SEALBYTES) throw decode_error("sealed half too short");
  std::string plain(box.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(plain.data()),
                           reinterpret_cast<const unsigned char*>(box.data()), box.size(), mine.pk.data(),
                           mine.sk.data()) != 0)
    throw decode_error("sealed half does not open with this consumer's key");
  return plain;
}

guarded_key::guarded_key() {
  ensure_sodium();
  bytes_.reset(static_cast<unsigned char*>(sodium_malloc(size)));
  if (!bytes_) throw std::runtime_error("sodium_malloc failed (RLIMIT_MEMLOCK?)");
  wipe();
}

void guarded_key::wipe() { sodium_memzero(bytes_.get(), size); }

void guarded_key::release::operator()(unsigned char* p) const { sodium_free(p); }  // wipes, then frees

sealer::sealer(const public_key& to, std::size_t max_uses, std::chrono::seconds max_age)
    : to_(to), max_uses_(max_uses), max_age_(max_age) {
  static_assert(guarded_key::size == crypto_box_BEFORENMBYTES);
}

void sealer::forget_expired(clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (uses_ == 0 || now - made_ < max_age_) return;
  shared_.wipe();
  uses_ = 0;
}

bool sealer::holding_key() {
  std::lock_guard lock(mutex_);
  return uses_ != 0;
}

std::string sealer::seal(std::string_view plaintext) {
  public_key epk;
  std::array<unsigned char, crypto_box_BEFORENMBYTES> shared;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock::now();
    if (uses_ == 0 || uses_ >= max_uses_ || now - made_ >= max_age_) {
      std::array<unsigned char, crypto_box_SECRETKEYBYTES> esk;
      crypto_box_keypair(epk_.data(), esk.data());
      const int failed = crypto_box_beforenm(shared_.data(), to_.data(), esk.data());
      sodium_memzero(esk.data(), esk.size());  // the secret half is gone: only the shared key remains
      if (failed) {
        shared_.wipe();
        uses_ = 0;
        throw std::runtime_error("crypto_box_beforenm failed (a weak consumer public key?)");
      }
      uses_ = 0;
      made_ = now;
    }
    ++uses_;
    epk = epk_;
    std::copy(shared_.data(), shared_.data() + shared.size(), shared.begin());
  }
  std::string box(crypto_box_PUBLICKEYBYTES + crypto_box_NONCEBYTES + crypto_box_MACBYTES + plaintext.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(box.data());
  std::copy(epk.begin(), epk.end(), out);
  randombytes_buf(out + crypto_box_PUBLICKEYBYTES, crypto_box_NONCEBYTES);
  const int failed = crypto_box_easy_afternm(out + crypto_box_PUBLICKEYBYTES + crypto_box_NONCEBYTES,
                                             reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                                             out + crypto_box_PUBLICKEYBYTES, shared.data());
  sodium_memzero(shared.data(), shared.size());
  if (failed) throw std::runtime_error("crypto_box_easy_afternm failed");
  return box;
}

std::string open_shared(std::string_view box, const keypair& mine) {
  ensure_sodium();
  constexpr std::size_t header = crypto_box_PUBLICKEYBYTES + crypto_box_NONCEBYTES;
  if (box.size() < header + crypto_box_MACBYTES) throw decode_error("sealed half too short");
  const auto* in = reinterpret_cast<const unsigned char*>(box.data());
  // (ephemeral public key, our public key) -> shared key; ephemeral keys change once a
  // minute per ingest process, so the map stays small; cleared if a flood of forged keys fills it.
  thread_local std::map<std::array<unsigned char, 64>, std::array<unsigned char, crypto_box_BEFORENMBYTES>> shared_keys;
  std::array<unsigned char, 64> id;
  std::copy(in, in + 32, id.begin());
  std::copy(mine.pk.begin(), mine.pk.end(), id.begin() + 32);
  auto it = shared_keys.find(id);
  if (it == shared_keys.end()) {
    if (shared_keys.size() >= 256) {
      for (auto& [_, k] : shared_keys) sodium_memzero(k.data(), k.size());
      shared_keys.clear();
    }
    std::array<unsigned char, crypto_box_BEFORENMBYTES> k;
    if (crypto_box_beforenm(k.data(), in, mine.sk.data()) != 0) throw decode_error("sealed half has an invalid key");
    it = shared_keys.emplace(id, k).first;
    sodium_memzero(k.data(), k.size());
  }
  std::string plain(box.size() - header - crypto_box_MACBYTES, '\0');
  if (crypto_box_open_easy_afternm(reinterpret_cast<unsigned char*>(plain.data()), in + header, box.size() - header,
                                   in + crypto_box_PUBLICKEYBYTES, it->second.data()) != 0)
    throw decode_error("sealed half does not open with this consumer's key");
  return plain;
}

std::string pad(std::string_view plaintext, std::size_t block) {
  if (block == 0) throw std::invalid_argument("pad: block size 0");
  std::string out(plaintext);
  const std::size_t room = (plaintext.size() / block + 1) * block;
  out.resize(room);
  std::size_t padded = 0;
  if (sodium_pad(&padded, reinterpret_cast<unsigned char*>(out.data()), plaintext.size(), block, out.size()) != 0)
    throw std::runtime_error("sodium_pad failed");
  out.resize(padded);
  return out;
}

std::string unpad(std::string_view padded) {
  std::size_t plain = 0;
  if (padded.empty() ||
      sodium_unpad(&plain, reinterpret_cast<const unsigned char*>(padded.data()), padded.size(), padded.size()) != 0)
    throw decode_error("malformed padding in a sealed half");
  return std::string(padded.substr(0, plain));
}

std::string readable_half(const std::string& half, sealing how, const std::vector<keypair>& mine) {
  if (how == sealing::none) return half;
  if (mine.empty()) throw decode_error("sealed half, but this consumer has no secret key configured");
  const auto open = [&](const keypair& k) {
    switch (how) {
      case sealing::shared_key:
        return open_shared(half, k);
      case sealing::shared_key_padded:
        return unpad(open_shared(half, k));
      default:
        return open_sealed(half, k);
    }
  };
  for (std::size_t i = 0; i + 1 < mine.size(); ++i) {
    try {
      return open(mine[i]);
    } catch (const decode_error&) {
      // sealed to an older key: try the next
    }
  }
  return open(mine.back());
}

}  // namespace splitvote::envelope
