// TCP relays that let Kafka clients in other network namespaces (containers) reach the dev broker.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string>
#include <thread>
#include <vector>

namespace splitvote::dev_broker {

/// librdkafka's mock cluster (2.0.2) listens on 127.0.0.1 only and names its brokers
/// 127.0.0.1:PORT in metadata, so a client in another container meets its own loopback. Two
/// halves of relays bridge that without touching the protocol:
///   - in the broker's container, each broker's loopback port is also served on the container's
///     own addresses (same port number), and a fixed bootstrap port forwards to broker 1;
///   - in each client's container, a mirror listens on 127.0.0.1:PORT for every broker the
///     metadata names and forwards to the broker's container on the same port.
/// The clients keep `bootstrap.servers` = the broker container's HOST:PORT and know nothing of it.
///
/// Each relay forwards every accepted connection byte for byte, both ways, until either side
/// closes. All of them run on one thread, started by start(), stopped by the destructor.
class relays {
public:
  relays() = default;
  ~relays();
  relays(const relays&) = delete;
  relays& operator=(const relays&) = delete;

  /// Connections accepted on `from` are forwarded to `to`. Throws when `from` cannot be bound.
  void add(const boost::asio::ip::tcp::endpoint& from, const boost::asio::ip::tcp::endpoint& to);
  void start();

private:
  boost::asio::io_context io_;
  std::jthread thread_;
};

/// This machine's IPv4 addresses other than loopback (a container's own address on its networks).
std::vector<boost::asio::ip::address> external_addresses();

/// HOST:PORT resolved to its first IPv4 endpoint; throws std::runtime_error naming it.
boost::asio::ip::tcp::endpoint resolve(const std::string& host_port);

/// The ports of the brokers in `bootstrap` ("127.0.0.1:P1,127.0.0.1:P2,...", as the mock cluster
/// names them), in order.
std::vector<unsigned short> broker_ports(const std::string& bootstrap);

}  // namespace splitvote::dev_broker
