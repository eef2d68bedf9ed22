#include "splitvote/pg/migrations.hpp"

#include <stdexcept>

namespace splitvote::pg {

int apply_migrations(pqxx::connection& c, const std::string& schema, const std::vector<migration>& migrations) {
  pqxx::work tx(c);
  // Serialises concurrent runs; released at commit or rollback.
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "splitvote.migrate." + schema);
  const std::string s = tx.quote_name(schema);
  tx.exec("CREATE SCHEMA IF NOT EXISTS " + s);
  tx.exec("CREATE TABLE IF NOT EXISTS " + s + ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL)");
  const int current = tx.exec("SELECT coalesce(max(version), 0) FROM " + s + ".schema_migrations")[0][0].as<int>();
  int applied = 0;
  for (const auto& m : migrations) {
    if (m.version <= current) continue;
    tx.exec(m.sql);
    tx.exec_params("INSERT INTO " + s + ".schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name);
    ++applied;
  }
  tx.commit();
  return applied;
}

int schema_version(pqxx::connection& c, const std::string& schema) {
  pqxx::nontransaction tx(c);
  const auto exists = tx.exec_params(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = "
      "'schema_migrations'",
      schema);
  if (exists.empty()) return 0;
  return tx.exec("SELECT coalesce(max(version), 0) FROM " + tx.quote_name(schema) + ".schema_migrations")[0][0]
      .as<int>();
}

void require_schema_version(pqxx::connection& c, const std::string& schema, int expected) {
  const int found = schema_version(c, schema);
  if (found == expected) return;
  if (found < expected)
    throw std::runtime_error("schema " + schema + " is at version " + std::to_string(found) + ", this build needs " +
                             std::to_string(expected) + ": run splitvote-migrate first");
  throw std::runtime_error("schema " + schema + " is at version " + std::to_string(found) +
                           ", newer than this build knows (" + std::to_string(expected) + "): upgrade the service");
}

std::string create_role_sql(const std::string& role) {
  return "DO $$ BEGIN CREATE ROLE " + role +
         " LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;";
}

std::string offset_positions_function_sql(const std::string& schema) {
  return "CREATE FUNCTION " + schema +
         ".offset_positions(p_topic text, p_cluster text) RETURNS TABLE (partition integer, next_offset bigint)"
         " LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$"
         " SELECT partition, next_offset FROM " +
         schema + ".consumer_offsets WHERE topic = p_topic AND cluster_id = p_cluster $$;";
}

std::string sealed_positions_sql(const std::string& schema) {
  return "ALTER TABLE " + schema +
         ".consumer_offsets ADD COLUMN position bytea, ALTER COLUMN next_offset DROP NOT NULL;"
         "DROP FUNCTION IF EXISTS " +
         schema + ".offset_positions(text, text);";
}

std::string consumer_offsets_ddl(const std::string& schema) {
  return "CREATE TABLE " + schema +
         ".consumer_offsets ("
         " topic text NOT NULL,"
         " partition integer NOT NULL,"
         " cluster_id text NOT NULL,"
         " next_offset bigint NOT NULL,"
         " PRIMARY KEY (topic, partition))";
}

}  // namespace splitvote::pg
