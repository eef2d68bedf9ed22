// splitvote-keygen: a consumer's key pair for sealed halves (PREFIX.key secret, PREFIX.pub public).
#include "splitvote/envelope/seal.hpp"
#include "splitvote/runtime/program.hpp"

#include <iostream>

int main(int argc, char** argv) {
  using namespace splitvote;
  if (argc != 2) {
    std::cerr << "usage: splitvote-keygen PATH_PREFIX   (writes PATH_PREFIX.key, mode 600, and PATH_PREFIX.pub)\n";
    return 2;
  }
  return runtime::run_main("splitvote-keygen", [&] {
    envelope::write_keypair(envelope::generate_keypair(), argv[1]);
    std::cout << "splitvote-keygen: wrote " << argv[1] << ".key and " << argv[1] << ".pub\n";
    return 0;
  });
}
