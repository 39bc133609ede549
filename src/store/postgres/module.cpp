// libtradingbot-postgres.so's one exported symbol: the driver table the store loads with
// dlopen (store/database_driver.hpp). Everything else in the module has hidden visibility.
#include <memory>

#include "pg_sink.hpp"

namespace tb::store::detail {
namespace {

std::unique_ptr<DatabaseSink> create_pg_sink(const SinkOptions& options) { return std::make_unique<PgSink>(options); }

constexpr DatabaseDriver kPostgresDriver{
    .build_id = TB_BUILD_ID,
    .create_sink = &create_pg_sink,
    .inspect_schema = &pg_inspect_schema,
    .migrate_schema = &pg_migrate_schema,
};

}  // namespace
}  // namespace tb::store::detail

extern "C" __attribute__((visibility("default"))) const tb::store::detail::DatabaseDriver* tb_postgres_driver() {
  return &tb::store::detail::kPostgresDriver;
}
