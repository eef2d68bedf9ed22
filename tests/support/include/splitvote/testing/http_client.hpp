// A blocking keep-alive HTTP/1.1 client for tests, plus raw-bytes access for malformed requests.
#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <string>

namespace splitvote::testing {

struct http_response {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  boost::json::value json() const;
  std::string header(const std::string& lower_name) const;
};

/// Whether a client's exchanges go to the OpenAPI contract check: only splitvote's own
/// servers are described there, so a client of another server (Prometheus) opts out.
enum class contract_record { yes, no };

class http_client {
public:
  explicit http_client(unsigned short port, contract_record record = contract_record::yes);
  ~http_client();

  http_response request(const std::string& method, const std::string& target, const std::string& body = {},
                        const std::map<std::string, std::string>& headers = {{"Content-Type", "application/json"}});
  http_response get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return request("GET", target, {}, headers);
  }
  http_response post(const std::string& target, const std::string& body) { return request("POST", target, body); }

  /// Sends raw bytes on a fresh connection and returns everything read until the server
  /// closes or `timeout_ms` passes.
  static std::string raw(unsigned short port, const std::string& bytes, int timeout_ms = 2000);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A series' value from the /metrics of the server on `port` ("name" for a metric without labels,
/// or "name{labels}" exactly as it is exposed), or -1 when absent.
double metric(unsigned short port, const std::string& series);

}  // namespace splitvote::testing
