#include "splitvote/http/router.hpp"

#include <algorithm>
#include <memory>

namespace splitvote::http {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t j = path.find('/', i);
    out.push_back(path.substr(i, j == std::string::npos ? std::string::npos : j - i));
    i = j == std::string::npos ? path.size() : j;
  }
  return out;
}

}  // namespace

void router::add(std::string method, std::string pattern, handler h, std::size_t body_limit) {
  routes_.push_back(route{std::move(method), split_path(pattern), pattern, std::move(h), body_limit});
}

std::size_t router::max_body_limit(std::size_t floor) const {
  for (const auto& r : routes_) floor = std::max(floor, r.body_limit);
  return floor;
}

router::match router::find(const std::string& method, const std::string& path) const {
  match result;
  const auto segments = split_path(path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    params values;
    bool ok = true;
    for (std::size_t i = 0; i < segments.size() && ok; ++i) {
      if (r.segments[i].starts_with('{'))
        values.push_back(segments[i]);
      else
        ok = r.segments[i] == segments[i];
    }
    if (!ok) continue;
    if (r.method != method) {
      result.allowed.push_back(r.method);
      result.pattern = r.pattern;
      continue;
    }
    result.h = &r.h;
    result.pattern = r.pattern;
    result.values = std::move(values);
    result.body_limit = r.body_limit;
    result.allowed.clear();
    return result;
  }
  return result;
}

void router::dispatch(const request& req, const match& m, respond_fn respond) const {
  if (!m.h) {
    if (m.allowed.empty()) {
      respond(problem(404, "not-found", "Not found", "no resource at " + req.path));
      return;
    }
    std::string allow;
    for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
    response r =
        problem(405, "method-not-allowed", "Method not allowed", req.method + " is not allowed here; use " + allow);
    r.headers.emplace_back("Allow", allow);
    respond(std::move(r));
    return;
  }
  // Exactly one response per request, whether the handler answers or throws.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  respond_fn once = [answered, respond](response r) {
    if (!answered->exchange(true)) respond(std::move(r));
  };
  try {
    (*m.h)(req, m.values, once);
  } catch (...) {
    once(answer_exception(std::current_exception(), req.request_id, m.pattern));
  }
}

}  // namespace splitvote::http
