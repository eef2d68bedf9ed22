#include "splitvote/runtime/program.hpp"

#include "splitvote/config/settings.hpp"

#include <exception>
#include <iostream>

namespace splitvote::runtime {

int run_main(std::string_view program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const config::error& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace splitvote::runtime
