#include "splitvote/testing/raw_connection.hpp"

#include "splitvote/testing/process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace splitvote::testing {

using clock_type = std::chrono::steady_clock;

raw_connection::raw_connection(unsigned short port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("connect: ") + std::strerror(err));
  }
}

raw_connection::~raw_connection() {
  if (fd_ >= 0) ::close(fd_);
}

bool raw_connection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a server that closed must fail this call, not kill the test with SIGPIPE.
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      closed_ = true;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void raw_connection::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

bool raw_connection::read_some(std::chrono::milliseconds timeout) {
  if (closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, timeout.count())));
  if (ready <= 0) return false;
  char buf[8192];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    if (n < 0 && errno == EINTR) return true;
    closed_ = true;  // end of stream or reset
    return false;
  }
  received_.append(buf, static_cast<std::size_t>(n));
  return true;
}

void raw_connection::read_for(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  while (!closed_ && clock_type::now() < deadline)
    read_some(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()));
}

bool raw_connection::read_until_closed(std::chrono::milliseconds timeout) {
  read_for(timeout);
  return closed_;
}

bool raw_connection::read_until(std::string_view text, std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  while (received_.find(text) == std::string::npos) {
    if (closed_ || clock_type::now() >= deadline) return false;
    read_some(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()));
  }
  return true;
}

std::vector<std::unique_ptr<raw_connection>> hold_connections(unsigned short port, std::size_t n,
                                                              std::chrono::milliseconds timeout,
                                                              const boost::source_location& at) {
  std::vector<std::unique_ptr<raw_connection>> held;
  eventually(
      [&] {
        auto conn = std::make_unique<raw_connection>(port);
        conn->send(livez_request);
        if (!conn->read_until("\r\n\r\n", std::chrono::seconds(5)) || !conn->received().starts_with("HTTP/1.1 200"))
          return false;
        held.push_back(std::move(conn));
        return held.size() == n;
      },
      timeout, at);
  return held;
}

std::string raw_vote(const std::string& poll_id, const std::string& body, const std::string& extra) {
  return "POST /v1/polls/" + poll_id + "/votes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::vector<std::string> statuses(const std::string& stream) {
  std::vector<std::string> out;
  for (auto at = stream.find("HTTP/1.1 "); at != std::string::npos; at = stream.find("HTTP/1.1 ", at + 1))
    out.push_back(stream.substr(at + 9, 3));
  return out;
}

}  // namespace splitvote::testing
