#include "splitvote/testing/proxy.hpp"

#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/http_client.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace splitvote::testing {

nginx_proxy::nginx_proxy(const std::filesystem::path& dir, const std::vector<unsigned short>& upstream_ports) {
  const auto home = dir / "nginx";
  std::filesystem::create_directories(home);
  port_ = free_port();
  std::vector<std::string> args{std::string(SPLITVOTE_SOURCE_DIR) + "/tests/support/nginx_config.py",
                                std::string(SPLITVOTE_SOURCE_DIR) + "/deploy/compose/nginx.conf", home.string(),
                                "--listen", std::to_string(port_)};
  for (auto p : upstream_ports) {
    args.push_back("--upstream");
    args.push_back("127.0.0.1:" + std::to_string(p));
  }
  const auto derive_log = dir / "nginx-config.log";
  child_process derive(SPLITVOTE_PYTHON3, args, {}, derive_log);
  if (derive.wait(std::chrono::seconds(10)) != 0)
    throw std::runtime_error("cannot derive the nginx config: " + read_file(derive_log));
  if (!std::filesystem::exists(SPLITVOTE_NGINX))
    throw std::runtime_error(std::string("no ") + SPLITVOTE_NGINX + ": script/bootstrap installs nginx-light");
  // In the foreground, so that it is our child (and the watchdog's to kill); its error log to
  // stderr, which is nginx.log.
  process_ = std::make_unique<child_process>(
      SPLITVOTE_NGINX,
      std::vector<std::string>{"-p", home.string(), "-c", (home / "nginx.conf").string(), "-e", "stderr", "-g",
                               "daemon off;"},
      std::map<std::string, std::string>{}, dir / "nginx.log");
  const bool ready = eventually(
      [&] {
        if (!process_->running()) return false;
        try {
          // nginx's own answers (a 502 page) are not splitvote's: kept out of the OpenAPI check.
          return http_client(port_, contract_record::no).get("/livez").status == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      std::chrono::seconds(10));
  if (!ready) throw std::runtime_error("nginx did not proxy /livez: " + read_file(dir / "nginx.log"));
}

nginx_proxy::~nginx_proxy() {
  process_->signal(15);
  process_->wait(std::chrono::seconds(10));
}

int nginx_proxy::workers() const {
  std::ifstream in("/proc/" + std::to_string(process_->pid()) + "/task/" + std::to_string(process_->pid()) +
                   "/children");
  int n = 0;
  for (int pid; in >> pid;) ++n;
  return n;
}

}  // namespace splitvote::testing
