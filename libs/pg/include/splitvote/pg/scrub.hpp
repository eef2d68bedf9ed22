// Scrubbing: rewrite tables in random order so ctid and xmin no longer follow arrival.
#pragma once

#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace splitvote::pg {

/// Rewrites each table in one transaction: copies its rows aside in an order drawn from
/// PostgreSQL's strong random source (gen_random_uuid), TRUNCATEs it (a new file: the old
/// pages, with their xmin and ctid, are unlinked at commit) and inserts the rows back, so
/// every row gets the same xmin and a random ctid. Writers wait on the table lock while it
/// runs; nothing is lost. Returns the rows rewritten.
std::size_t scrub_tables(pqxx::connection& c, const std::vector<std::string>& tables);

}  // namespace splitvote::pg
