#include "splitvote/ingest/web_files.hpp"

#include "splitvote/privacy/actor_key.hpp"
#include "splitvote/random/random_source.hpp"

#include <array>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

namespace splitvote::ingest {
namespace fs = std::filesystem;

namespace {

/// The page's own policy: its scripts, styles and API calls come from this origin only, and
/// no other site may frame it. Global headers for every response are libs/http's business.
constexpr const char* page_csp =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

web_files::file read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  web_files::file f{content_type_for(p), s.str(), {}};
  const auto digest = privacy::token_hash(f.body);
  // Appended, not "\"" + hex + "\"": GCC 12 at -O2/-O3 reports a false -Wrestrict on
  // operator+(const char*, std::string&&) (GCC bug 105329).
  f.etag.append("\"").append(random::to_hex(std::span(digest).first(12))).append("\"");
  return f;
}

/// Whether an If-None-Match header names `etag` (a list, possibly weak, or "*").
bool matches(std::string_view header, std::string_view etag) {
  return header.find('*') != std::string_view::npos || header.find(etag) != std::string_view::npos;
}

}  // namespace

std::string content_type_for(const fs::path& name) {
  static const std::map<std::string, std::string> types{
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  const auto it = types.find(name.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

web_files web_files::load(const fs::path& root) {
  if (!fs::is_regular_file(root / "index.html"))
    throw std::runtime_error("web.root: no index.html in " + root.string());
  web_files w;
  w.index_ = std::make_shared<const file>(read_file(root / "index.html"));
  auto assets = std::make_shared<std::map<std::string, file>>();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "assets", ec)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file() && !name.starts_with('.')) assets->emplace(name, read_file(entry.path()));
  }
  w.assets_ = std::move(assets);
  return w;
}

std::optional<fs::path> web_files::default_root() {
  std::array<char, 4096> exe{};
  const auto n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  std::vector<fs::path> candidates;
  if (n > 0)
    candidates.push_back(fs::path(std::string(exe.data(), static_cast<std::size_t>(n))).parent_path() /
                         "../share/splitvote/web");
#ifdef SPLITVOTE_WEB_SOURCE_DIR
  candidates.emplace_back(SPLITVOTE_WEB_SOURCE_DIR);
#endif
  for (const auto& c : candidates)
    if (fs::is_regular_file(c / "index.html")) return fs::weakly_canonical(c);
  return std::nullopt;
}

const web_files::file* web_files::asset(const std::string& name) const {
  const auto it = assets_->find(name);
  return it == assets_->end() ? nullptr : &it->second;
}

http::response static_response(const web_files::file& f, std::optional<std::string_view> if_none_match) {
  http::response r;
  r.content_type = f.content_type;
  const bool html = f.content_type.starts_with("text/html");
  // The page is small and changes with a deployment: always revalidated (a 304 is cheap).
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", f.etag);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (html) {
    r.headers.emplace_back("Content-Security-Policy", page_csp);
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (if_none_match && matches(*if_none_match, f.etag)) {
    r.status = 304;
    return r;
  }
  r.body = f.body;
  return r;
}

void web_files::register_routes(http::router& r) const {
  auto page = [index = index_](const http::request& q, const http::params&, http::respond_fn f) {
    f(static_response(*index, q.header("If-None-Match")));
  };
  for (const char* path : {"/", "/index.html", "/p/{id}", "/p/{id}/results"}) r.add("GET", path, page);
  r.add("GET", "/assets/{name}", [assets = assets_](const http::request& q, const http::params& p, http::respond_fn f) {
    const auto it = assets->find(p[0]);
    if (it == assets->end())
      throw http::problem_error(404, "not-found", "Not found", "no file at " + q.path.substr(0, 200));
    f(static_response(it->second, q.header("If-None-Match")));
  });
}

}  // namespace splitvote::ingest
