#include "tradingbot/store/migrations.hpp"

namespace tb::store {
namespace {

constexpr std::string_view kV1 = R"SQL(
CREATE FUNCTION tb_ts(ns bigint) RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT to_timestamp(0) + (ns / 1000) * interval '1 microsecond' $$;
CREATE FUNCTION tb_fx(raw bigint) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT raw::numeric * 0.00000001 $$;

CREATE TABLE store_progress (
  journal_id  text PRIMARY KEY,
  applied_seq bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
  run_id      text PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  stopped_at  timestamptz,
  version     text NOT NULL,
  config_hash text NOT NULL,
  pid         integer NOT NULL,
  stop_detail text
);
CREATE INDEX runs_started ON runs (started_at);

CREATE TABLE orders (
  id                bigserial PRIMARY KEY,
  client_order_id   text NOT NULL,
  exchange_order_id bigint NOT NULL,
  symbol            text NOT NULL,
  side              text NOT NULL,
  type              text NOT NULL,
  time_in_force     text NOT NULL,
  status            text NOT NULL,
  price             numeric(38,8) NOT NULL,
  qty               numeric(38,8) NOT NULL,
  filled_qty        numeric(38,8) NOT NULL,
  cum_quote         numeric(38,8) NOT NULL,
  reason            text NOT NULL,
  event_time        timestamptz NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_symbol_time ON orders (symbol, event_time);
CREATE INDEX orders_client_order ON orders (client_order_id, id);

CREATE TABLE order_state (
  client_order_id   text PRIMARY KEY,
  exchange_order_id bigint NOT NULL,
  symbol            text NOT NULL,
  side              text NOT NULL,
  type              text NOT NULL,
  time_in_force     text NOT NULL,
  status            text NOT NULL,
  price             numeric(38,8) NOT NULL,
  qty               numeric(38,8) NOT NULL,
  filled_qty        numeric(38,8) NOT NULL,
  cum_quote         numeric(38,8) NOT NULL,
  reason            text NOT NULL,
  event_time        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_state_open ON order_state (symbol, event_time)
  WHERE status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL');
CREATE INDEX order_state_symbol_time ON order_state (symbol, event_time);
CREATE VIEW open_orders AS
  SELECT * FROM order_state WHERE status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL');

CREATE TABLE fills (
  symbol            text NOT NULL,
  trade_id          bigint NOT NULL,
  client_order_id   text NOT NULL,
  exchange_order_id bigint NOT NULL,
  side              text NOT NULL,
  is_maker          boolean NOT NULL,
  price             numeric(38,8) NOT NULL,
  qty               numeric(38,8) NOT NULL,
  quote_qty         numeric(38,8) NOT NULL,
  commission        numeric(38,8) NOT NULL,
  commission_asset  text NOT NULL,
  trade_time        timestamptz NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, trade_id)
);
CREATE INDEX fills_symbol_time ON fills (symbol, trade_time);
CREATE INDEX fills_order ON fills (symbol, exchange_order_id);

CREATE TABLE positions (
  symbol          text PRIMARY KEY,
  qty             numeric(38,8) NOT NULL,
  avg_entry_price numeric(38,8) NOT NULL,
  realized_pnl    numeric(38,8) NOT NULL,
  updated_at      timestamptz NOT NULL
);

CREATE TABLE balances (
  asset      text PRIMARY KEY,
  free       numeric(38,8) NOT NULL,
  locked     numeric(38,8) NOT NULL,
  updated_at timestamptz NOT NULL
);
)SQL";

constexpr std::string_view kV2 = R"SQL(
CREATE TABLE equity_samples (
  quote_asset    text NOT NULL,
  sample_time    timestamptz NOT NULL,
  equity         numeric(38,8) NOT NULL,
  realized_pnl   numeric(38,8) NOT NULL,
  unrealized_pnl numeric(38,8) NOT NULL,
  PRIMARY KEY (quote_asset, sample_time)
);
CREATE INDEX equity_samples_time ON equity_samples (sample_time);

CREATE TABLE klines (
  symbol       text NOT NULL,
  interval     text NOT NULL,
  open_time    timestamptz NOT NULL,
  close_time   timestamptz NOT NULL,
  open         numeric(38,8) NOT NULL,
  high         numeric(38,8) NOT NULL,
  low          numeric(38,8) NOT NULL,
  close        numeric(38,8) NOT NULL,
  volume       numeric(38,8) NOT NULL,
  quote_volume numeric(38,8) NOT NULL,
  trades       bigint NOT NULL,
  PRIMARY KEY (symbol, interval, open_time)
) PARTITION BY RANGE (open_time);
CREATE TABLE klines_default PARTITION OF klines DEFAULT;

-- Monthly partitions klines_yYYYYmMM for `months` months starting with the month of from_ts.
-- A month whose rows already sit in the default partition is skipped (with a notice).
CREATE FUNCTION tb_ensure_kline_partitions(from_ts timestamptz, months integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  created integer := 0;
  start_ts timestamptz;
  name text;
BEGIN
  FOR i IN 0 .. months - 1 LOOP
    start_ts := date_trunc('month', from_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + make_interval(months => i);
    name := 'klines_y' || to_char(start_ts AT TIME ZONE 'UTC', 'YYYY') || 'm' || to_char(start_ts AT TIME ZONE 'UTC', 'MM');
    IF to_regclass(name) IS NULL THEN
      BEGIN
        EXECUTE format('CREATE TABLE %I PARTITION OF klines FOR VALUES FROM (%L) TO (%L)',
                       name, start_ts, start_ts + interval '1 month');
        created := created + 1;
      EXCEPTION WHEN check_violation THEN
        RAISE NOTICE 'klines: % not created: rows for that month are in klines_default', name;
      END;
    END IF;
  END LOOP;
  RETURN created;
END $$;

-- Retention: drops monthly partitions that end at or before older_than; returns how many.
CREATE FUNCTION tb_drop_kline_partitions(older_than timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  dropped integer := 0;
  part record;
BEGIN
  FOR part IN
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'klines'::regclass AND c.relname ~ '^klines_y[0-9]{4}m[0-9]{2}$'
  LOOP
    IF to_timestamp(substr(part.name, 9, 4) || substr(part.name, 14, 2), 'YYYYMM') AT TIME ZONE 'UTC'
         + interval '1 month' <= older_than THEN
      EXECUTE format('DROP TABLE %I', part.name);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  DELETE FROM klines_default WHERE open_time < older_than;
  RETURN dropped;
END $$;

SELECT tb_ensure_kline_partitions(now(), 2);
)SQL";

}  // namespace

const std::vector<Migration>& schema_migrations() {
  static const std::vector<Migration> kAll = {
      {1, "core", kV1},
      {2, "market_data", kV2},
  };
  return kAll;
}

int latest_schema_version() noexcept { return schema_migrations().back().version; }

SchemaState schema_state_for(int current) {
  SchemaState state;
  state.current = current;
  state.latest = latest_schema_version();
  for (const auto& m : schema_migrations()) {
    if (m.version > current) state.pending.push_back(m);
  }
  return state;
}

std::string SchemaState::describe() const {
  std::string text = "schema version " + std::to_string(current) + " of " + std::to_string(latest);
  if (newer_than_binary()) return text + " (the database is newer than this binary)";
  if (pending.empty()) return text + " (up to date)";
  text += "; pending:";
  for (const auto& m : pending) text += " " + std::to_string(m.version) + " " + std::string(m.name);
  return text;
}

}  // namespace tb::store
