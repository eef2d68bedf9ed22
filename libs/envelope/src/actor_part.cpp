#include "splitvote/envelope/actor_part.hpp"

#include "splitvote/envelope/envelope.hpp"
#include "splitvote/v1/actor.pb.h"

#include <cstring>

namespace splitvote::envelope {

std::string encode(const actor_part& a) {
  v1::ActorPart m;
  m.set_actor_key(a.actor_key.data(), a.actor_key.size());
  m.set_entry_id(a.entry_id.data(), a.entry_id.size());
  m.set_kind(a.cover ? 2 : 1);
  return m.SerializeAsString();
}

actor_part decode_actor_part(const std::string& bytes) {
  v1::ActorPart m;
  if (!m.ParseFromString(bytes)) throw decode_error("not a protobuf actor part");
  actor_part a;
  if (m.actor_key().size() != a.actor_key.size()) throw decode_error("actor key is not 32 bytes");
  if (m.entry_id().size() != a.entry_id.size()) throw decode_error("entry id is not 16 bytes");
  std::memcpy(a.actor_key.data(), m.actor_key().data(), a.actor_key.size());
  std::memcpy(a.entry_id.data(), m.entry_id().data(), a.entry_id.size());
  a.cover = m.kind() == 2;
  return a;
}

}  // namespace splitvote::envelope
