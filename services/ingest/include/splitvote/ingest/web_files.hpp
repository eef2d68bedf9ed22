// The web UI's files (HTML, CSS, JS), loaded once at start and served by ingest under `/`.
#pragma once

#include "splitvote/http/router.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace splitvote::ingest {

class web_files {
public:
  struct file {
    std::string content_type;
    std::string body;
    std::string etag;  // quoted, from the content's SHA-256
  };

  /// Reads `root/index.html` and every regular file directly in `root/assets`. A request
  /// is only ever matched against these names, so no request path reaches the file system.
  /// Throws std::runtime_error when `root` has no index.html.
  static web_files load(const std::filesystem::path& root);

  /// The directory the UI is served from when `web.root` is not set: next to the binary
  /// (`../share/splitvote/web`, as an install lays it out), else the source tree's.
  static std::optional<std::filesystem::path> default_root();

  /// GET `/`, `/index.html`, `/p/{id}` and `/p/{id}/results` (the page; the script reads
  /// the path) and `/assets/{name}`; an unknown asset is a 404 problem.
  void register_routes(http::router& r) const;

  /// The file for an asset name, if there is one.
  const file* asset(const std::string& name) const;
  const file& index() const { return *index_; }
  std::size_t size() const { return assets_->size() + 1; }

private:
  std::shared_ptr<const file> index_;
  std::shared_ptr<const std::map<std::string, file>> assets_;
};

/// The Content-Type for a file name, by its extension (application/octet-stream if unknown).
std::string content_type_for(const std::filesystem::path& name);

/// The answer to a GET of `f`: its body, or 304 when `if_none_match` names its ETag.
/// HTML gets the page's Content-Security-Policy; every file gets nosniff and Cache-Control.
http::response static_response(const web_files::file& f, std::optional<std::string_view> if_none_match);

}  // namespace splitvote::ingest
