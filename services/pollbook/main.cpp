// splitvote-pollbook: stores who voted (actor keys), never what.
#include "splitvote/consumer/service.hpp"
#include "splitvote/pollbook/schema.hpp"
#include "splitvote/pollbook/sink.hpp"

int main(int argc, char** argv) {
  using namespace splitvote;
  pollbook::sink sink;
  return consumer::run_service({"pollbook", pollbook::schema_name, pollbook::current_version()}, sink, argc, argv);
}
