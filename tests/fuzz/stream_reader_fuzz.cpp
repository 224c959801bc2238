// libFuzzer target for the ets-stream v1 reader (ParseStream,
// docs/order-stream.md). Any text must give either an error whose message
// starts with "line <n>: " or a stream that obeys the format's rules; an
// accepted stream written back with the writer must parse to the same
// events. Findings: a crash, a sanitizer report, an exception, or a broken
// rule.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "carbonex/stream/stream.h"

namespace {

bool SameEvents(const carbonex::stream::Stream& a,
                const carbonex::stream::Stream& b) {
  if (a.events.size() != b.events.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    const auto& x = a.events[i];
    const auto& y = b.events[i];
    if (x.kind != y.kind || x.order_id != y.order_id) {
      return false;
    }
    if (x.kind == carbonex::stream::EventKind::kAdd &&
        (x.side != y.side || x.intent != y.intent || x.price != y.price ||
         x.qty != y.qty)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = carbonex::stream::ParseStream(text);
  if (!parsed.ok()) {
    if (!parsed.status().message().starts_with("line ")) {
      std::abort();
    }
    return 0;
  }
  const carbonex::stream::Stream& s = *parsed;
  if (s.events.size() != s.header.events) {
    std::abort();
  }
  std::uint64_t adds = 0;
  for (const carbonex::stream::StreamEvent& e : s.events) {
    if (e.kind == carbonex::stream::EventKind::kAdd) {
      ++adds;
      if (e.order_id.value() != adds || e.price.value() <= 0 ||
          e.price.value() > carbonex::stream::kMaxPrice || e.qty.value() <= 0 ||
          e.qty.value() > carbonex::stream::kMaxQty) {
        std::abort();
      }
    } else if (e.order_id.value() == 0 || e.order_id.value() > adds) {
      std::abort();
    }
  }
  if (adds != s.orders_added) {
    std::abort();
  }
  std::string again = carbonex::stream::FormatHeader(s.header) + "\n";
  for (const carbonex::stream::StreamEvent& e : s.events) {
    carbonex::stream::AppendEvent(e, &again);
  }
  const auto reparsed = carbonex::stream::ParseStream(again);
  if (!reparsed.ok() || !SameEvents(s, *reparsed)) {
    std::abort();
  }
  return 0;
}
