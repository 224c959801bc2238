// The ets-stream v1 order-stream format: its in-memory form, a strict reader
// and the writer the generator uses. The format is specified byte by byte in
// docs/order-stream.md.
//
//   # ets-stream v1 events=<N> seed=<S> mid=<M> target=<T> mix=<P>/<A>/<C>
//   A <order_id> <B|S> <price> <qty> <p|a>
//   X <order_id>
//
// Prices are integer ticks and quantities integer lots; carbonex reads both
// as its own Price (tiyn, tick 1) and Quantity (units).
//
// Thread-safety: plain values and free functions without shared state.
#ifndef CARBONEX_STREAM_STREAM_H_
#define CARBONEX_STREAM_STREAM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/status.h"
#include "carbonex/common/types.h"

namespace carbonex::stream {

// Largest price and quantity the reader accepts. Far above anything the
// generator writes; it keeps Σ qty × price of a whole stream inside int64.
inline constexpr std::int64_t kMaxPrice = 1'000'000'000;
inline constexpr std::int64_t kMaxQty = 1'000'000'000;

enum class EventKind : std::uint8_t {
  kAdd = 0,    // `A`: new GTC limit order
  kCancel = 1  // `X`: cancel a live order
};

// The generator's intent for an `A` line; informational only.
enum class Intent : std::uint8_t {
  kPassive = 0,    // `p`: did not cross the book when generated
  kAggressive = 1  // `a`: priced through the opposite best
};

// One line after the header. For kCancel only `order_id` is meaningful.
struct StreamEvent {
  EventKind kind = EventKind::kAdd;
  Side side = Side::kBuy;
  Intent intent = Intent::kPassive;
  OrderId order_id;
  Price price;
  Quantity qty;
};

// The header line's parameters.
struct StreamHeader {
  std::uint64_t events = 0;
  std::uint64_t seed = 0;
  std::int64_t mid = 0;
  std::int64_t target = 0;
  int passive_pct = 0;
  int aggressive_pct = 0;
  int cancel_pct = 0;
};

// A whole stream in memory.
struct Stream {
  StreamHeader header;
  std::vector<StreamEvent> events;
  std::uint64_t orders_added = 0;  // number of `A` lines = highest order id
};

// Parses a whole stream. Every malformed line is an InvalidArgument error
// whose message starts with "line <n>: " (1-based) and names the problem:
// bad header, unknown record type, wrong number of fields, a field that is
// not a number or out of range, an order id out of sequence (they must be
// 1, 2, 3, … in order of `A` lines), a cancel of an order id that has not
// been added yet, or fewer/more event lines than the header's events=N.
// Lines end in '\n'; the last line may omit it. Nothing else is accepted
// (no blank lines, no '\r', exactly one space between fields).
[[nodiscard]] Result<Stream> ParseStream(std::string_view text);

// Reads the file at `path` ("-" reads standard input) and parses it.
// Errors: IoError if the file cannot be read (message names the path and the
// cause); otherwise as ParseStream, prefixed with the path.
[[nodiscard]] Result<Stream> ReadStreamFile(const std::string& path);

// The header line, without its '\n'.
[[nodiscard]] std::string FormatHeader(const StreamHeader& header);

// Appends `event` as one line including its '\n'.
void AppendEvent(const StreamEvent& event, std::string* out);

}  // namespace carbonex::stream

#endif  // CARBONEX_STREAM_STREAM_H_
