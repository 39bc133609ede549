#include <catch2/catch.hpp>

#include <set>
#include <utility>

#include "tradingbot/oms/types.hpp"

using namespace tb::oms;
using S = OrderStatus;

TEST_CASE("the transition table: every one of the 100 pairs", "[oms]") {
  const std::set<std::pair<S, S>> legal = {
      {S::PendingNew, S::New},           {S::PendingNew, S::PartiallyFilled}, {S::PendingNew, S::Filled},
      {S::PendingNew, S::Canceled},      {S::PendingNew, S::Rejected},        {S::PendingNew, S::Expired},
      {S::PendingNew, S::ExpiredInMatch}, {S::PendingNew, S::PendingCancel},  {S::PendingNew, S::Unknown},
      {S::Unknown, S::New},              {S::Unknown, S::PartiallyFilled},    {S::Unknown, S::Filled},
      {S::Unknown, S::Canceled},         {S::Unknown, S::Rejected},           {S::Unknown, S::Expired},
      {S::Unknown, S::ExpiredInMatch},   {S::Unknown, S::PendingCancel},
      {S::New, S::PartiallyFilled},      {S::New, S::Filled},                 {S::New, S::Canceled},
      {S::New, S::Expired},              {S::New, S::ExpiredInMatch},         {S::New, S::PendingCancel},
      {S::PartiallyFilled, S::Filled},   {S::PartiallyFilled, S::Canceled},   {S::PartiallyFilled, S::Expired},
      {S::PartiallyFilled, S::ExpiredInMatch}, {S::PartiallyFilled, S::PendingCancel},
      {S::PendingCancel, S::PendingNew}, {S::PendingCancel, S::New},          {S::PendingCancel, S::PartiallyFilled},
      {S::PendingCancel, S::Unknown},    {S::PendingCancel, S::Filled},       {S::PendingCancel, S::Canceled},
      {S::PendingCancel, S::Expired},    {S::PendingCancel, S::ExpiredInMatch}, {S::PendingCancel, S::Rejected},
  };
  int legal_count = 0;
  for (std::size_t f = 0; f < kOrderStatusCount; ++f) {
    for (std::size_t t = 0; t < kOrderStatusCount; ++t) {
      const auto from = static_cast<S>(f);
      const auto to = static_cast<S>(t);
      INFO(to_string(from) << " -> " << to_string(to));
      const bool expected = legal.count({from, to}) == 1;
      CHECK(is_legal_transition(from, to) == expected);
      legal_count += expected;
    }
  }
  CHECK(legal_count == 37);
  // Terminal states never move; self-transitions are not in the table (handled as duplicates).
  for (S t : {S::Filled, S::Canceled, S::Rejected, S::Expired, S::ExpiredInMatch}) {
    CHECK(is_terminal(t));
    for (std::size_t k = 0; k < kOrderStatusCount; ++k) CHECK_FALSE(is_legal_transition(t, static_cast<S>(k)));
  }
}

TEST_CASE("Binance spellings of statuses and execution types", "[oms]") {
  CHECK(parse_order_status("PARTIALLY_FILLED") == S::PartiallyFilled);
  CHECK(parse_order_status("EXPIRED_IN_MATCH") == S::ExpiredInMatch);
  CHECK_FALSE(parse_order_status("partially_filled").has_value());
  for (std::size_t k = 0; k < kOrderStatusCount; ++k) {
    const auto s = static_cast<S>(k);
    if (s == S::Unknown) continue;
    CHECK(parse_order_status(to_string(s)) == s);
  }
  CHECK(parse_exec_type("TRADE") == ExecType::Trade);
  CHECK(parse_exec_type("TRADE_PREVENTION") == ExecType::TradePrevention);
  CHECK_FALSE(parse_exec_type("FILL").has_value());
}
