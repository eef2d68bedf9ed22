// The web UI as ingest serves it: static files, their headers, safe lookup; and the pages in
// Chromium (tests/browser/ui_test.mjs, run by tests/browser/run.sh, which skips without it).
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/stack.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

using namespace splitvote::testing;
using svc = stack::service;

namespace {

const std::string some_poll = "/p/0b4c8f4e-7d1a-4c39-9a0e-2f9d5b7c1e23";

void check_page_headers(const http_response& r) {
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == "text/html; charset=utf-8");
  CHECK(r.header("content-security-policy").find("default-src 'self'") != std::string::npos);
  CHECK(r.header("x-content-type-options") == "nosniff");
  CHECK(r.header("cache-control") == "no-cache");
  CHECK(!r.header("etag").empty());
}

}  // namespace

TEST_CASE("ingest serves the web UI under /, safely and with its headers", "[e2e][web-static]") {
  stack s("e2e-web-static");
  s.start(svc::ingest);
  http_client c(s.port());

  SECTION("the page, at every address the UI uses") {
    for (const auto& path : std::vector<std::string>{"/", "/index.html", some_poll, some_poll + "/results"}) {
      INFO(path);
      const auto r = c.get(path);
      check_page_headers(r);
      CHECK(r.body.find(R"(<script src="/assets/app.js" defer>)") != std::string::npos);
    }
  }

  SECTION("assets with their content types") {
    const auto js = c.get("/assets/app.js");
    CHECK(js.status == 200);
    CHECK(js.header("content-type") == "text/javascript; charset=utf-8");
    CHECK(js.header("x-content-type-options") == "nosniff");
    CHECK(js.body.find("function drawChart") != std::string::npos);
    const auto css = c.get("/assets/style.css");
    CHECK(css.status == 200);
    CHECK(css.header("content-type") == "text/css; charset=utf-8");
  }

  SECTION("a matching If-None-Match is a 304 without a body") {
    const auto first = c.get("/assets/app.js");
    const auto again = c.get("/assets/app.js", {{"If-None-Match", first.header("etag")}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(again.header("etag") == first.header("etag"));
    CHECK(c.get("/", {{"If-None-Match", "\"other\""}}).status == 200);
  }

  SECTION("unknown files and traversal attempts are 404 problems") {
    for (const auto& path :
         std::vector<std::string>{"/assets/nope.js", "/assets/..%2f..%2fCMakeLists.txt", "/assets/../index.html",
                                  "/assets/%2e%2e", "/assets/..", "/assets/app.js%00.html", "/assets/.hidden",
                                  "/assets/..\\..\\main.cpp", "/web/index.html", "/p/x/y/z"}) {
      INFO(path);
      const auto r = c.get(path);
      CHECK(r.status == 404);
      CHECK(r.header("content-type") == "application/problem+json");
      CHECK(r.json().at("type") == "/problems/not-found");
    }
  }

  SECTION("the page is read-only") {
    const auto r = c.request("POST", "/", "{}");
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "GET");
  }
}

TEST_CASE("web.root points ingest at another directory; 'off' serves no UI", "[e2e][web-static]") {
  const auto dir = temp_dir("web-root");
  std::filesystem::create_directories(dir / "assets");
  std::ofstream(dir / "index.html") << "<p>custom page</p>";
  std::ofstream(dir / "assets" / "note.txt") << "hello";
  {
    stack s("e2e-web-root", {{}, {{"SPLITVOTE_WEB__ROOT", dir.string()}}});
    s.start(svc::ingest);
    http_client c(s.port());
    CHECK(c.get("/").body == "<p>custom page</p>");
    const auto note = c.get("/assets/note.txt");
    CHECK(note.body == "hello");
    CHECK(note.header("content-type") == "text/plain; charset=utf-8");
    // The page's policy is the page's: a file gets the server's default-src 'none', and keeps
    // its own revalidation rule rather than the API's no-store.
    CHECK(note.header("content-security-policy").starts_with("default-src 'none'"));
    CHECK(note.header("cache-control") == "no-cache");
    CHECK(c.get("/assets/app.js").status == 404);
  }
  {
    stack s("e2e-web-off", {{}, {{"SPLITVOTE_WEB__ROOT", "off"}}});
    s.start(svc::ingest);
    CHECK(http_client(s.port()).get("/").status == 404);
  }
}

TEST_CASE("the pages in Chromium: create a poll, vote, see the chart", "[browser]") {
  const char* node = std::getenv("SPLITVOTE_NODE");
  const char* script = std::getenv("SPLITVOTE_BROWSER_TEST");
  REQUIRE(node);  // tests/browser/run.sh sets both, or skips
  REQUIRE(script);
  stack s("browser-ui");
  s.start_all();
  const auto shots = std::getenv("SPLITVOTE_UI_SCREENSHOTS")
                         ? std::filesystem::path(std::getenv("SPLITVOTE_UI_SCREENSHOTS"))
                         : s.dir() / "screenshots";
  std::filesystem::create_directories(shots);
  const auto log = s.dir() / "browser.log";
  child_process browser(node, {script},
                        {{"SPLITVOTE_URL", "http://127.0.0.1:" + std::to_string(s.port())},
                         {"SPLITVOTE_UI_SCREENSHOTS", shots.string()},
                         {"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"}},
                        log);
  const auto status = browser.wait(std::chrono::seconds(240));
  std::cout << read_file(log);
  if (status != 0) std::cout << s.all_logs();
  REQUIRE(status == 0);
  CHECK(std::filesystem::exists(shots / "create.png"));
  CHECK(std::filesystem::exists(shots / "vote.png"));
  CHECK(std::filesystem::exists(shots / "results.png"));
}
