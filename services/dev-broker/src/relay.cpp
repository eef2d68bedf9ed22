#include "relay.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <ifaddrs.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace splitvote::dev_broker {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> copy(tcp::socket& from, tcp::socket& to) {
  std::array<char, 64 * 1024> buffer;
  for (;;) {
    const auto n = co_await from.async_read_some(asio::buffer(buffer), asio::use_awaitable);
    co_await asio::async_write(to, asio::buffer(buffer.data(), n), asio::use_awaitable);
  }
}

asio::awaitable<void> forward(tcp::socket client, tcp::endpoint to) {
  try {
    tcp::socket upstream(client.get_executor());
    co_await upstream.async_connect(to, asio::use_awaitable);
    client.set_option(tcp::no_delay(true));
    upstream.set_option(tcp::no_delay(true));
    using namespace asio::experimental::awaitable_operators;
    co_await (copy(client, upstream) || copy(upstream, client));  // ends when either side closes
  } catch (const std::exception&) {
    // A refused connect or a reset: the client sees its connection close and reconnects.
  }
}

asio::awaitable<void> accept_all(std::shared_ptr<tcp::acceptor> acceptor, tcp::endpoint to) {
  for (;;) {
    auto client = co_await acceptor->async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor->get_executor(), forward(std::move(client), to), asio::detached);
  }
}

}  // namespace

relays::~relays() { io_.stop(); }

void relays::add(const tcp::endpoint& from, const tcp::endpoint& to) {
  auto acceptor = std::make_shared<tcp::acceptor>(io_);
  acceptor->open(from.protocol());
  acceptor->set_option(tcp::acceptor::reuse_address(true));
  boost::system::error_code ec;
  acceptor->bind(from, ec);
  if (ec) {
    std::ostringstream what;
    what << "relay: cannot listen on " << from << ": " << ec.message();
    throw std::runtime_error(what.str());
  }
  acceptor->listen();
  asio::co_spawn(io_, accept_all(std::move(acceptor), to), asio::detached);
}

void relays::start() {
  thread_ = std::jthread([this] { io_.run(); });
}

std::vector<asio::ip::address> external_addresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) throw std::runtime_error("relay: getifaddrs failed");
  const std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owned(list, &freeifaddrs);
  std::vector<asio::ip::address> out;
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    asio::ip::address_v4::bytes_type bytes;
    const auto& in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
    std::memcpy(bytes.data(), &in, bytes.size());
    const asio::ip::address_v4 address(bytes);
    if (!address.is_loopback()) out.emplace_back(address);
  }
  return out;
}

tcp::endpoint resolve(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::runtime_error("relay: not HOST:PORT: " + host_port);
  asio::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(tcp::v4(), host_port.substr(0, colon), host_port.substr(colon + 1), ec);
  if (ec || results.empty()) throw std::runtime_error("relay: cannot resolve " + host_port + ": " + ec.message());
  return results.begin()->endpoint();
}

std::vector<unsigned short> broker_ports(const std::string& bootstrap) {
  std::vector<unsigned short> ports;
  std::istringstream in(bootstrap);
  for (std::string server; std::getline(in, server, ',');) {
    const auto colon = server.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("relay: no port in " + server);
    ports.push_back(static_cast<unsigned short>(std::stoi(server.substr(colon + 1))));
  }
  return ports;
}

}  // namespace splitvote::dev_broker
