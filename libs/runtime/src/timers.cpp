#include "splitvote/runtime/timers.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <thread>

namespace splitvote::runtime {

namespace net = boost::asio;

struct timers::impl {
  net::io_context context{1};
  net::executor_work_guard<net::io_context::executor_type> work{context.get_executor()};
  std::thread thread{[this] { context.run(); }};
};

timers::timers() : impl_(std::make_unique<impl>()) {}

timers::~timers() {
  impl_->work.reset();
  impl_->context.stop();
  impl_->thread.join();
}

void timers::after(std::chrono::milliseconds delay, std::function<void()> task) {
  // The timer is made on the timer thread: a steady_timer is not safe to share across threads.
  net::post(impl_->context, [this, delay, task = std::move(task)]() mutable {
    auto timer = std::make_shared<net::steady_timer>(impl_->context, delay);
    timer->async_wait([timer, task = std::move(task)](const boost::system::error_code& ec) {
      if (!ec) task();
    });
  });
}

}  // namespace splitvote::runtime
