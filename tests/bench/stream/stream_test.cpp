#include "carbonex/stream/stream.h"

#include <catch2/catch.hpp>
#include <string>

namespace carbonex::stream {
namespace {

constexpr std::string_view kHeader =
    "# ets-stream v1 events=3 seed=42 mid=10000 target=8000 mix=70/20/10\n";

std::string WithHeader(const std::string& body) {
  return std::string(kHeader) + body;
}

TEST_CASE("ParseStream reads the header and every event", "[stream]") {
  Result<Stream> stream =
      ParseStream(WithHeader("A 1 S 10011 90 p\nA 2 B 10012 30 a\nX 1\n"));
  REQUIRE(stream.ok());
  CHECK(stream->header.events == 3);
  CHECK(stream->header.seed == 42);
  CHECK(stream->header.mid == 10000);
  CHECK(stream->header.target == 8000);
  CHECK(stream->header.passive_pct == 70);
  CHECK(stream->header.aggressive_pct == 20);
  CHECK(stream->header.cancel_pct == 10);
  CHECK(stream->orders_added == 2);
  REQUIRE(stream->events.size() == 3);
  const StreamEvent& first = stream->events[0];
  CHECK(first.kind == EventKind::kAdd);
  CHECK(first.order_id == OrderId(1));
  CHECK(first.side == Side::kSell);
  CHECK(first.price == Price(10011));
  CHECK(first.qty == Quantity(90));
  CHECK(first.intent == Intent::kPassive);
  CHECK(stream->events[1].side == Side::kBuy);
  CHECK(stream->events[1].intent == Intent::kAggressive);
  CHECK(stream->events[2].kind == EventKind::kCancel);
  CHECK(stream->events[2].order_id == OrderId(1));
}

TEST_CASE("ParseStream accepts a last line without its newline", "[stream]") {
  Result<Stream> stream =
      ParseStream(WithHeader("A 1 S 10011 90 p\nA 2 B 10012 30 a\nX 1"));
  REQUIRE(stream.ok());
  CHECK(stream->events.size() == 3);
}

TEST_CASE("ParseStream rejects malformed lines with their line number",
          "[stream]") {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "line 1: empty stream"},
      {"# ets-stream v2 events=1 seed=1 mid=1 target=1 mix=70/20/10\n",
       "line 1: expected header"},
      {"# ets-stream v1 events=x seed=1 mid=1 target=1 mix=70/20/10\n",
       "line 1: expected header"},
      {"# ets-stream v1 events=1 seed=1 mid=1 target=1 mix=70/20/11\n"
       "A 1 B 1 1 p\n",
       "line 1: header mix 'mix=70/20/11' does not add up to 100"},
      {WithHeader("A 1 S 10011 90 p\nQ 2\nX 1\n"),
       "line 3: unknown record type 'Q'"},
      {WithHeader("A 1 S 10011 90\n"), "line 2: expected 'A <order_id>"},
      {WithHeader("A 1 S 10011 90 p extra\n"), "line 2: expected 'A"},
      {WithHeader("A 1  S 10011 90 p\n"), "line 2: fields must be separated"},
      {WithHeader("A 1 S 10011 90 p \n"), "line 2: fields must be separated"},
      {WithHeader("A 2 S 10011 90 p\n"),
       "line 2: order id 2 out of sequence, expected 1"},
      {WithHeader("A 1 S 10011 90 p\nA 1 S 10011 90 p\n"),
       "line 3: order id 1 out of sequence, expected 2"},
      {WithHeader("A x S 10011 90 p\n"), "line 2: order id 'x' is not"},
      {WithHeader("A 1 K 10011 90 p\n"), "line 2: side must be B or S"},
      {WithHeader("A 1 S 0 90 p\n"), "line 2: price must be an integer"},
      {WithHeader("A 1 S -5 90 p\n"), "line 2: price must be an integer"},
      {WithHeader("A 1 S 10.5 90 p\n"), "line 2: price must be an integer"},
      {WithHeader("A 1 S 1000000001 90 p\n"),
       "line 2: price must be an integer"},
      {WithHeader("A 1 S 100 0 p\n"), "line 2: quantity must be an integer"},
      {WithHeader("A 1 S 100 99999999999999999999 p\n"),
       "line 2: quantity must be an integer"},
      {WithHeader("A 1 S 100 5 q\n"), "line 2: intent must be p or a"},
      {WithHeader("X 1\n"), "line 2: cancel of order 1, which has not"},
      {WithHeader("A 1 S 100 5 p\nX 0\n"), "line 3: cancel of order 0"},
      {WithHeader("A 1 S 100 5 p\nX\n"), "line 3: expected 'X <order_id>'"},
      {WithHeader("A 1 S 100 5 p\nX 1 2\n"), "line 3: expected 'X <order_id>'"},
      {WithHeader("A 1 S 100 5 p\n\nX 1\n"), "line 3: empty line"},
      {WithHeader("A 1 S 100 5 p\r\n"), "line 2: carriage return"},
      {WithHeader("A 1 S 100 5 p\nX 1\n"),
       "line 3: stream ends after 2 events, header says events=3"},
      {WithHeader("A 1 S 100 5 p\nX 1\nA 2 S 100 5 p\nA 3 S 100 5 p\n"),
       "line 5: more event lines than the header's events=3"},
  };
  for (const Case& c : cases) {
    INFO("input: " << c.text);
    Result<Stream> stream = ParseStream(c.text);
    REQUIRE_FALSE(stream.ok());
    CHECK(stream.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(stream.status().message(), Catch::StartsWith(c.message));
  }
}

TEST_CASE("ReadStreamFile names the file it cannot open", "[stream]") {
  Result<Stream> stream = ReadStreamFile("/nonexistent/stream.txt");
  REQUIRE_FALSE(stream.ok());
  CHECK(stream.status().code() == StatusCode::kIoError);
  CHECK_THAT(stream.status().message(),
             Catch::Contains("/nonexistent/stream.txt"));
}

TEST_CASE("FormatHeader and AppendEvent write what ParseStream reads",
          "[stream]") {
  StreamHeader header;
  header.events = 3;
  header.seed = 18446744073709551615ULL;
  header.mid = 5;
  header.target = 9;
  header.passive_pct = 0;
  header.aggressive_pct = 100;
  header.cancel_pct = 0;
  std::string text = FormatHeader(header);
  CHECK(text ==
        "# ets-stream v1 events=3 seed=18446744073709551615 mid=5 target=9 "
        "mix=0/100/0");
  text.push_back('\n');
  StreamEvent add;
  add.kind = EventKind::kAdd;
  add.order_id = OrderId(1);
  add.side = Side::kBuy;
  add.price = Price(123);
  add.qty = Quantity(45);
  add.intent = Intent::kAggressive;
  AppendEvent(add, &text);
  StreamEvent sell = add;
  sell.order_id = OrderId(2);
  sell.side = Side::kSell;
  sell.intent = Intent::kPassive;
  AppendEvent(sell, &text);
  StreamEvent cancel;
  cancel.kind = EventKind::kCancel;
  cancel.order_id = OrderId(2);
  AppendEvent(cancel, &text);
  CHECK(text.substr(text.find('\n') + 1) ==
        "A 1 B 123 45 a\nA 2 S 123 45 p\nX 2\n");
  Result<Stream> stream = ParseStream(text);
  REQUIRE(stream.ok());
  CHECK(stream->header.seed == header.seed);
  CHECK(stream->events[1].side == Side::kSell);
  CHECK(stream->events[2].order_id == OrderId(2));
}

}  // namespace
}  // namespace carbonex::stream
