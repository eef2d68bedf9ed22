#include "splitvote/observability/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace splitvote::observability {
namespace {

std::string service_name = "splitvote";

void emit(spdlog::level::level_enum level, std::string_view event, boost::json::object fields) {
  fields["event"] = event;
  fields["service"] = service_name;
  // The pattern writes the timestamp and level; the payload is the rest of the JSON object.
  std::string body = boost::json::serialize(fields);
  body.erase(0, 1);  // drop the leading '{', the pattern opens the object
  spdlog::log(level, "{}", body);
}

}  // namespace

void init_logging(std::string_view service, std::string_view level) {
  service_name = std::string(service);
  auto logger = spdlog::stderr_logger_mt(service_name);
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v)", spdlog::pattern_time_type::utc);
  // spdlog maps an unknown name to "off": refuse it instead of going silent.
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off")
    throw std::invalid_argument("log.level: '" + std::string(level) +
                                "' is not one of trace, debug, info, warn, error, off");
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void log_info(std::string_view event, boost::json::object fields) {
  emit(spdlog::level::info, event, std::move(fields));
}
void log_warn(std::string_view event, boost::json::object fields) {
  emit(spdlog::level::warn, event, std::move(fields));
}
void log_error(std::string_view event, boost::json::object fields) {
  emit(spdlog::level::err, event, std::move(fields));
}

}  // namespace splitvote::observability
