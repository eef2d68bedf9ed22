// One TCP connection with byte-level control, for malformed, slow and pipelined HTTP in tests.
#pragma once

#include <boost/assert/source_location.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace splitvote::testing {

class raw_connection {
public:
  /// Connects to 127.0.0.1:`port`; throws if nobody accepts.
  explicit raw_connection(unsigned short port);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  /// Sends all of `bytes`; false once the peer has closed or reset the connection.
  bool send(std::string_view bytes);
  /// No more bytes from this side (the server sees end of stream).
  void shutdown_send();

  /// Reads what arrives within `timeout`, stopping early when the peer closes; the bytes
  /// are appended to received().
  void read_for(std::chrono::milliseconds timeout);
  /// Reads until the peer closes (true) or the timeout passes (false).
  bool read_until_closed(std::chrono::milliseconds timeout);
  /// Reads until received() holds `text` (true), or the peer closes or the timeout passes.
  bool read_until(std::string_view text, std::chrono::milliseconds timeout);

  /// Whether the peer has closed or reset the connection (seen by a read or a send).
  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

private:
  /// One read of what is there within `timeout`; false if nothing came.
  bool read_some(std::chrono::milliseconds timeout);
  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

/// A keep-alive GET /livez, as raw bytes.
inline constexpr std::string_view livez_request = "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n";

/// Opens connections to 127.0.0.1:`port` until `n` of them were each answered 200 to
/// livez_request, and returns them open. One the server does not answer 200 (connections closed
/// just before may still count against its limits) is dropped and another tried, until
/// `timeout`: fewer than `n` come back if the server never had room for all of them. While it
/// waits, the watchdog knows the call site `at` (as with eventually()).
std::vector<std::unique_ptr<raw_connection>> hold_connections(
    unsigned short port, std::size_t n, std::chrono::milliseconds timeout,
    const boost::source_location& at = BOOST_CURRENT_LOCATION);

/// A raw POST of a vote with Content-Length; `extra` headers end with \r\n each.
std::string raw_vote(const std::string& poll_id, const std::string& body, const std::string& extra = {});

/// Every status line in a stream of responses, in order ("202", "400", ...).
std::vector<std::string> statuses(const std::string& stream);

}  // namespace splitvote::testing
