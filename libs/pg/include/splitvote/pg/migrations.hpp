// Versioned schema migrations: applied by the one-shot migrate step, checked by every service.
#pragma once

#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace splitvote::pg {

struct migration {
  int version;
  std::string name;
  std::string sql;  // may reference the schema only by its literal name
};

/// Applies the migrations newer than the schema's recorded version, in one transaction under
/// an advisory lock: safe to run twice or concurrently. Returns how many were applied.
int apply_migrations(pqxx::connection& c, const std::string& schema, const std::vector<migration>& migrations);

/// The recorded version of the schema, 0 if it was never migrated.
int schema_version(pqxx::connection& c, const std::string& schema);

/// Throws std::runtime_error with advice unless the schema is at exactly `expected`.
void require_schema_version(pqxx::connection& c, const std::string& schema, int expected);

/// SQL that creates a login role unless it exists (roles are cluster-wide; safe to repeat).
std::string create_role_sql(const std::string& role);

/// SQL for a SECURITY DEFINER function over the consumer_offsets table of `schema`, so a
/// reader without table rights can see positions: `schema.offset_positions(topic, cluster)`.
std::string offset_positions_function_sql(const std::string& schema);

/// DDL for the table that holds a consumer's Kafka positions inside its own schema.
std::string consumer_offsets_ddl(const std::string& schema);

/// A later step for that table: positions become opaque (sealed) bytes, the plain offset
/// is only for rows not yet rewritten, and the offset_positions function goes (nobody but
/// the consumer can read a sealed position).
std::string sealed_positions_sql(const std::string& schema);

}  // namespace splitvote::pg
