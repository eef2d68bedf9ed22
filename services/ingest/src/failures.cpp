#include "splitvote/ingest/failures.hpp"

#include "splitvote/ingest/problems.hpp"
#include "splitvote/pg/pool.hpp"

#include <pqxx/pqxx>

namespace splitvote::ingest {

void answer_failures(const http::respond_fn& respond, std::string_view request_id, std::string_view step,
                     const std::function<void()>& work) {
  try {
    try {
      work();
    } catch (const pg::unavailable&) {
      throw problems::unavailable("the database is unavailable; try again");
    } catch (const pqxx::broken_connection&) {
      throw problems::unavailable("the database connection was lost; try again");
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != "57014") throw;  // query_canceled: db.statement_timeout_ms ran out
      throw problems::unavailable("the database did not answer in time; try again");
    }
  } catch (...) {
    respond(http::answer_exception(std::current_exception(), request_id, step));
  }
}

}  // namespace splitvote::ingest
