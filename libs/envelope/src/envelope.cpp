#include "splitvote/envelope/envelope.hpp"

#include "splitvote/v1/envelope.pb.h"

#include <limits>

namespace splitvote::envelope {

std::string encode(const envelope& e) {
  v1::Envelope m;
  m.set_schema_version(schema_version);
  m.set_poll_id(e.poll_id);
  m.set_actor_part(e.actor_part);
  m.set_ballot_list(e.ballot_list);
  m.set_sealed(e.sealed != sealing::none);
  m.set_sealing(static_cast<std::uint32_t>(e.sealed));
  return m.SerializeAsString();
}

envelope decode(const void* data, std::size_t size) {
  v1::Envelope m;
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !m.ParseFromArray(data, static_cast<int>(size)))
    throw decode_error("not a protobuf envelope");
  if (m.schema_version() != schema_version)
    throw decode_error("unknown envelope schema version " + std::to_string(m.schema_version()));
  if (m.poll_id().empty() || m.poll_id().size() > 64) throw decode_error("bad poll id");
  sealing how = m.sealed() ? sealing::sealed_box : sealing::none;
  if (m.sealing() != 0) {
    if (m.sealing() > static_cast<std::uint32_t>(sealing::shared_key_padded) || !m.sealed())
      throw decode_error("unknown sealing " + std::to_string(m.sealing()));
    how = static_cast<sealing>(m.sealing());
  }
  return envelope{m.poll_id(), m.actor_part(), m.ballot_list(), how};
}

}  // namespace splitvote::envelope
