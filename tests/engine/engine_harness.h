// Test harness for the engine: a text form of commands and events.
//
// Events are rendered as one line each: a kind followed by key=value fields
// covering every field of the event (so two renderings are equal exactly when
// the events are). Commands are parsed from the same style of line. The
// scenario files (tests/engine/scenarios/*.txt, format in scenario_test.cpp
// and docs/engine.md) and the Catch2 tests both use this.
#ifndef CARBONEX_TESTS_ENGINE_ENGINE_HARNESS_H_
#define CARBONEX_TESTS_ENGINE_ENGINE_HARNESS_H_

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/account_state.h"
#include "carbonex/engine/engine.h"

namespace carbonex::engine::testing {

// Full one-line rendering of an event (kind, body fields, then header
// fields seq/at/from).
std::string FormatEvent(const Event& event);

// Fields of a rendered line: kind plus key → value.
struct Fields {
  std::string kind;
  std::map<std::string, std::string> values;
};
Fields ParseFields(std::string_view line);

// True if `actual` (a rendered event) has the kind of `expected` and every
// key=value that `expected` lists. On false, `why` says what differed.
bool Matches(const std::string& actual, const std::string& expected,
             std::string* why = nullptr);

// Parses a command line such as
//   "place cl=A acct=10 inst=1 side=buy px=100 qty=5 tif=gtc"
// (verbs and keys in docs/engine.md, "Scenario files"). The header broker
// comes from b= (default 1 for trading commands, 0 for operator commands).
// Returns nullopt and sets *error on bad input.
std::optional<Command> ParseCommand(std::string_view line, std::uint64_t seq,
                                    std::string* error);

// Records every event as a rendered line.
class RecordingSink : public EventSink {
 public:
  void OnEvent(const Event& event) override {
    lines.push_back(FormatEvent(event));
    events.push_back(event);
  }
  std::vector<std::string> lines;
  std::vector<Event> events;
};

// An engine plus a sink, driven by command lines.
class Harness {
 public:
  explicit Harness(const AccountState& state, EngineOptions options = {});

  // Executes one command line and returns its rendered events. Fails the
  // current Catch2 test on a parse error or a broken invariant.
  std::vector<std::string> Run(std::string_view line);

  Engine& engine() { return *engine_; }
  RecordingSink& sink() { return sink_; }

 private:
  RecordingSink sink_;
  std::unique_ptr<Engine> engine_;
  std::uint64_t seq_ = 0;
};

// The seed of a randomised test: CARBONEX_SEED when set, else `fallback`.
inline std::uint64_t SeedFromEnv(std::uint64_t fallback) {
  const char* env =
      std::getenv("CARBONEX_SEED");  // NOLINT(concurrency-mt-unsafe)
  return env != nullptr ? std::stoull(env) : fallback;
}

// A starting state for tests: instruments 1 and 2 (tick 1, max 1,000,000),
// accounts 10, 11, 12 with `cash` each and `units` of both instruments each,
// broker 1 entitled to 10 and 11, broker 2 to 11 and 12.
AccountState TestState(std::int64_t cash = 1'000'000'000,
                       std::int64_t units = 1'000'000);

}  // namespace carbonex::engine::testing

#endif  // CARBONEX_TESTS_ENGINE_ENGINE_HARNESS_H_
