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
int apply_migrations(pqxx::connection& c, const std::string& schema,
                     const std::vector<migration>& migrations);

/// The recorded version of the schema, 0 if it was never migrated.
int schema_version(pqxx::connection& c, const std::string& schema);

/// Throws std::runtime_error with advice unless the schema is at exactly `expected`.
void require_schema_version(pqxx::connection& c, const std::string& schema, int expected);

/// DDL for the table that holds a consumer's Kafka positions inside its own schema.
std::string consumer_offsets_ddl(const std::string& schema);

}  // namespace splitvote::pg
