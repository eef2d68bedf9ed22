// splitvote-pollbook: stores who voted (actor keys), never what.
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/pollbook/sink.hpp"
#include "splitvote/store/service.hpp"

int main(int argc, char** argv) {
  using namespace splitvote;
  return store::run_service(
      {"pollbook", pollbook::schema_name, pollbook::current_version(), pollbook::scrubbed_tables()},
      [](const std::string& key_files) { return std::make_unique<pollbook::sink>(envelope::load_keypairs(key_files)); },
      argc, argv);
}
