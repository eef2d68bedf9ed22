// splitvote-ingest: the REST API. Wires config, PostgreSQL, Kafka and HTTP; the logic is in src/.
#include "splitvote/config/settings.hpp"
#include "splitvote/config/shared_keys.hpp"
#include "splitvote/http/server.hpp"
#include "splitvote/ingest/api.hpp"
#include "splitvote/ingest/lifecycle.hpp"
#include "splitvote/ingest/properties.hpp"
#include "splitvote/ingest/settings.hpp"
#include "splitvote/kafka/producer.hpp"
#include "splitvote/observability/log.hpp"
#include "splitvote/pg/pool.hpp"
#include "splitvote/runtime/program.hpp"
#include "splitvote/runtime/signals.hpp"

using namespace splitvote;

int main(int argc, char** argv) {
  runtime::block_stop_signals(/*hangup=*/true);
  return runtime::run_main("splitvote-ingest", [&] {
    // Every setting is read and checked (a problem: exit 2) before anything is logged or connects.
    const auto cfg =
        config::settings::load(ingest::properties(), config::config_path_from(argc, argv), config::kafka_passthrough());
    const auto settings = ingest::read_settings(cfg);
    observability::init_logging("ingest", cfg.str("log.level"));
    ingest::log_settings(cfg, settings);

    pg::pool catalog(settings.catalog_dsn, settings.pool_size, settings.limits);
    pg::pool pollbook(settings.pollbook_dsn, settings.pool_size, settings.limits);
    pg::pool ballotbox(settings.ballotbox_dsn, settings.pool_size, settings.limits);
    ingest::require_schemas(catalog, pollbook, ballotbox);

    // The router and the server outlive the producer and the api: their callbacks and timers
    // hold answers to connections, and a connection must go before its io_context does.
    http::router routes;
    http::server server(settings.http, routes);
    kafka::producer producer(settings.kafka);
    ingest::api api(settings.api, catalog, pollbook, ballotbox, producer);
    api.register_routes(routes);
    ingest::serve_web_ui(settings.web_root, routes);
    server.start();
    api.mark_started();
    observability::log_info("listening",
                            {{"address", settings.http.address}, {"port", server.port()}, {"tls", server.tls()}});
    ingest::periodic_jobs jobs(api, settings);

    const int sig = runtime::wait_for_stop_signal([&] {
      ingest::reload_tls(server);
      ingest::reload_jwks(settings);
    });
    jobs.request_stop();
    observability::log_info("draining", {{"signal", sig}});
    api.begin_shutdown();
    server.stop_accepting();
    const bool idle = server.wait_idle(settings.drain_timeout);
    const bool flushed = producer.flush(std::chrono::seconds(5));
    server.stop();
    observability::log_info("stopped", {{"idle", idle}, {"flushed", flushed}});
    return 0;
  });
}
