// splitvote-ballotbox: stores random_id/choice pairs and envelope counts, never who.
#include "splitvote/ballotbox/schema.hpp"
#include "splitvote/ballotbox/sink.hpp"
#include "splitvote/store/service.hpp"

int main(int argc, char** argv) {
  using namespace splitvote;
  return store::run_service(
      {"ballotbox", ballotbox::schema_name, ballotbox::current_version(), ballotbox::scrubbed_tables()},
      [](const std::string& key_files) {
        return std::make_unique<ballotbox::sink>(envelope::load_keypairs(key_files));
      },
      argc, argv);
}
