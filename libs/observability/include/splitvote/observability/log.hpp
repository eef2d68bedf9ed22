// Structured logs: one JSON line per event on stderr. Never pass an actor next to a choice.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace splitvote::observability {

/// Call once per process, before any log line.
void init_logging(std::string_view service, std::string_view level = "info");

void log_info(std::string_view event, boost::json::object fields = {});
void log_warn(std::string_view event, boost::json::object fields = {});
void log_error(std::string_view event, boost::json::object fields = {});

}  // namespace splitvote::observability
