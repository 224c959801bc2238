// Built instead of engine_run.cpp while carbonex::engine has no Engine
// implementation yet (see CMakeLists.txt): engine mode then reports that it
// is unavailable instead of failing to link.
#include "carbonex/stream/replay.h"

namespace carbonex::stream {

Result<EngineRun> ReplayCommands(const AccountState& /*state*/,
                                 std::span<const engine::Command> /*commands*/,
                                 const ReplayOptions& /*options*/) {
  return Status::FailedPrecondition(
      "engine mode is unavailable: this build of carbonex::engine has no "
      "Engine implementation");
}

}  // namespace carbonex::stream
