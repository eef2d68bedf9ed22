#include "splitvote/ingest/answer_once.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using splitvote::http::response;
using splitvote::ingest::answer_once;

namespace {
response with_status(unsigned status) {
  response r;
  r.status = status;
  return r;
}
}  // namespace

TEST_CASE("a request is answered once, by its work or by its deadline", "[answer-once]") {
  std::vector<unsigned> answers;
  auto answer = std::make_shared<answer_once>([&](response r) { answers.push_back(r.status); });

  SECTION("the work first: the deadline finds nothing to answer") {
    answer_once::responder(answer)(with_status(202));
    CHECK(answer->answered());
    CHECK_FALSE(answer->take_uncommitted());
    CHECK_FALSE(answer->take());
    CHECK(answers == std::vector<unsigned>{202});
  }
  SECTION("the deadline first: the work may not commit, and its answer is dropped") {
    auto respond = answer->take_uncommitted();
    REQUIRE(respond);
    respond(with_status(503));
    CHECK_FALSE(answer->commit());
    answer_once::responder(answer)(with_status(202));
    CHECK(answers == std::vector<unsigned>{503});
  }
  SECTION("committed work is not cut short by the request deadline, only by its own") {
    REQUIRE(answer->commit());
    CHECK_FALSE(answer->take_uncommitted());
    CHECK_FALSE(answer->answered());
    auto respond = answer->take();  // the delivery deadline, or the delivery report
    REQUIRE(respond);
    respond(with_status(503));
    answer_once::responder(answer)(with_status(202));
    CHECK(answers == std::vector<unsigned>{503});
  }
  SECTION("the callback is released by the first answer: a timer holding the state holds no connection") {
    auto held = std::make_shared<int>(1);
    auto a = std::make_shared<answer_once>([held](response) {});
    answer_once::responder(a)(with_status(200));
    CHECK(held.use_count() == 1);
  }
}

TEST_CASE("racing answers from many threads: exactly one gets through", "[answer-once]") {
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> answered{0};
    auto answer = std::make_shared<answer_once>([&](response) { ++answered; });
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([answer, t] {
        if (t % 2) {
          answer_once::responder(answer)(with_status(202));
        } else if (auto respond = answer->take_uncommitted()) {
          respond(with_status(503));
        }
      });
    threads.clear();
    REQUIRE(answered == 1);
  }
}
