// End to end: slow clients are cut off at the read timeout.
#include "splitvote/testing/answers.hpp"
#include "splitvote/testing/environment.hpp"
#include "splitvote/testing/polls.hpp"
#include "splitvote/testing/raw_connection.hpp"
#include "splitvote/testing/stack.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

using namespace splitvote::testing;
using namespace std::chrono_literals;
using svc = stack::service;

TEST_CASE("slow clients are cut off at the read timeout and cannot hold the only worker", "[e2e][timeouts]") {
  stack s("e2e-slow-loris", {{},
                             {{"SPLITVOTE_HTTP__THREADS", "1"},
                              {"SPLITVOTE_HTTP__READ_TIMEOUT_MS", "1000"},
                              {"SPLITVOTE_HTTP__IDLE_TIMEOUT_MS", "1000"}}});
  s.start_all();

  // Eight connections, each sending one byte of a never-ending header every 100 ms for up to
  // 20 s: far longer than the read timeout allows for a whole request.
  struct outcome {
    bool closed_by_server = false;
    std::string received;
  };
  constexpr int slow_clients = 8;
  std::vector<std::future<outcome>> slow;
  for (int i = 0; i < slow_clients; ++i)
    slow.push_back(std::async(std::launch::async, [port = s.port()] {
      raw_connection conn(port);
      const std::string head = "GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ";
      for (int sent = 0; sent < 200 && !conn.closed(); ++sent) {
        if (!conn.send(std::string(1, sent < static_cast<int>(head.size()) ? head[sent] : 'a'))) break;
        conn.read_for(100ms);  // returns early when the server closes
      }
      return outcome{conn.closed(), conn.received()};
    }));

  // Meanwhile a normal client is served: probes, a poll, a vote, its results.
  http_client c(s.port());
  CHECK(c.get("/livez").status == 200);
  const auto poll = create_poll(s.port(), exact_lunch_poll);
  CHECK(c.post(poll.votes_path(), vote_body("n1", "salad")).status == 202);
  check_counts(await_results(s.port(), poll, [](const auto& r) { return settled(r, 1); }), 0, 0, 1);

  for (auto& f : slow) {
    const auto o = f.get();
    CHECK(o.closed_by_server);  // cut off, not left to dribble for 20 s
    CHECK(o.received.empty());  // and never answered: its request never completed
  }

  {  // an idle keep-alive connection is closed after the idle timeout
    raw_connection idle(s.port());
    idle.send(livez_request);
    CHECK(idle.read_until("\r\n\r\n", 5s));
    CHECK(idle.read_until_closed(10s));
    CHECK(idle.received().starts_with("HTTP/1.1 200"));
  }
  {  // a keep-alive connection's second request dribbled after the first is cut off too
    raw_connection conn(s.port());
    conn.send(livez_request);
    CHECK(conn.read_until("\r\n\r\n", 5s));
    const std::string next =
        "GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (std::size_t i = 0; i < next.size() && !conn.closed(); ++i) {
      conn.send(next.substr(i, 1));
      conn.read_for(100ms);
    }
    CHECK(conn.closed());
    CHECK(statuses(conn.received()) == std::vector<std::string>{"200"});
  }
  CHECK(c.get("/livez").status == 200);
  CHECK(s.process(svc::ingest)->running());
}
