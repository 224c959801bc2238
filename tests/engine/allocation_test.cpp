// The engine does not allocate per order in steady state: once its tables
// and pools have reached the day's peak, placing, matching, replacing and
// cancelling orders (risk checks and market data on) makes no heap
// allocation. This binary counts every call of the global operator new.
#define CATCH_CONFIG_MAIN
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "engine_harness.h"

namespace {

std::atomic<std::size_t> g_allocations{0};

void* Allocate(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* AllocateAligned(std::size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  const std::size_t rounded = (size + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, rounded == 0 ? a : rounded)) return p;
  throw std::bad_alloc();
}

}  // namespace

// NOLINTBEGIN(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  return AllocateAligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return AllocateAligned(size, align);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t /*align*/) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t /*align*/) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t /*size*/,
                     std::align_val_t /*align*/) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t /*size*/,
                       std::align_val_t /*align*/) noexcept {
  std::free(p);
}
// NOLINTEND(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)

namespace carbonex::engine::testing {
namespace {

// Counts events without keeping them (a sink that allocated would hide the
// engine's own allocations).
class CountingSink : public EventSink {
 public:
  void OnEvent(const Event& /*event*/) override { ++events; }
  std::size_t events = 0;
};

// One round of trading on instrument 1, ClOrdIDs prefixed `tag`: 20 sell
// orders resting over 5 prices, a buy that sweeps part of them, a replace
// that lowers one's quantity (keeps priority) and one that moves another's
// price, a status query, then cancels of what is left, and an IOC and a
// FOK that cannot fill. The book is empty again at the end.
std::vector<std::string> Round(const std::string& tag) {
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i) {
    lines.push_back("place cl=" + tag + "s" + std::to_string(i) +
                    " acct=11 inst=1 side=sell px=" +
                    std::to_string(100 + i % 5) + " qty=10 tif=gtc");
  }
  lines.push_back("place cl=" + tag +
                  "b acct=10 inst=1 side=buy px=101 qty=55" + " tif=day");
  lines.push_back("replace cl=" + tag + "r1 orig=" + tag +
                  "s17 acct=11 inst=1 side=sell px=102 qty=5");
  lines.push_back("replace cl=" + tag + "r2 orig=" + tag +
                  "s18 acct=11 inst=1 side=sell px=110 qty=10");
  lines.push_back("query cl=" + tag + "q acct=11 inst=1 side=sell");
  for (int i = 0; i < 20; ++i) {
    if (i == 17 || i == 18) continue;
    lines.push_back("cancel cl=" + tag + "c" + std::to_string(i) +
                    " orig=" + tag + "s" + std::to_string(i) +
                    " acct=11 inst=1 side=sell");
  }
  lines.push_back("cancel cl=" + tag + "c17 orig=" + tag +
                  "r1 acct=11 inst=1 side=sell");
  lines.push_back("cancel cl=" + tag + "c18 orig=" + tag +
                  "r2 acct=11 inst=1 side=sell");
  lines.push_back("place cl=" + tag + "i acct=10 inst=1 side=buy px=90 qty=5" +
                  " tif=ioc");
  lines.push_back("place cl=" + tag + "f acct=10 inst=1 side=buy px=90 qty=5" +
                  " tif=fok");
  return lines;
}

std::vector<Command> Parse(const std::vector<std::string>& lines,
                           std::uint64_t* seq) {
  std::vector<Command> commands;
  commands.reserve(lines.size());
  for (const std::string& line : lines) {
    std::string error;
    auto command = ParseCommand(line, ++*seq, &error);
    INFO(line << ": " << error);
    REQUIRE(command.has_value());
    commands.push_back(*command);
  }
  return commands;
}

TEST_CASE("steady-state trading makes no heap allocation", "[engine]") {
  EngineOptions options;
  options.expected_orders = 4096;
  options.expected_done_orders = 1 << 16;
  CountingSink sink;
  auto created = Engine::Create(options, TestState(), &sink);
  REQUIRE(created.ok());
  Engine& engine = *created.value();

  // Every command is built before the counted part: parsing allocates.
  std::uint64_t seq = 0;
  std::vector<std::vector<Command>> rounds;
  for (int r = 0; r < 60; ++r) {
    rounds.push_back(Parse(Round("w" + std::to_string(r) + "_"), &seq));
  }
  // Warm-up: the first rounds reach the peak of live orders and levels.
  for (int r = 0; r < 10; ++r) {
    for (const Command& command : rounds[static_cast<std::size_t>(r)]) {
      engine.Execute(command);
    }
  }
  REQUIRE(engine.CheckInvariants().ok());
  const std::size_t events_before = sink.events;

  const std::size_t before = g_allocations.load();
  for (std::size_t r = 10; r < rounds.size(); ++r) {
    for (const Command& command : rounds[r]) engine.Execute(command);
  }
  const std::size_t allocations = g_allocations.load() - before;

  // The rounds really traded: fills, level changes and rejects happened.
  CHECK(sink.events - events_before > 50 * 60);
  CHECK(allocations == 0);
  CHECK(engine.CheckInvariants().ok());
}

TEST_CASE("the allocation counter sees allocations", "[engine]") {
  // The counter itself works, so a zero above means something.
  const std::size_t before = g_allocations.load();
  auto* boxed = new std::vector<int>(100);
  delete boxed;
  CHECK(g_allocations.load() - before >= 2);
}

}  // namespace
}  // namespace carbonex::engine::testing
