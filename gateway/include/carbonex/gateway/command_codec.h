// The journal's record payload codec: engine::Command <-> bytes.
//
// Every field is written explicitly, little-endian, in a fixed order; the
// payload starts with a record type (which command) and a version byte, so
// fields can be appended in later versions without breaking old journals
// (docs/journal.md lists every type and field byte by byte). The codec is
// separate from the journal framing so that the decoder can be fuzzed.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef CARBONEX_GATEWAY_COMMAND_CODEC_H_
#define CARBONEX_GATEWAY_COMMAND_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "carbonex/common/status.h"
#include "carbonex/engine/commands.h"

namespace carbonex::gateway {

// The current payload version written by EncodeCommand for every type.
inline constexpr std::uint8_t kCommandCodecVersion = 1;

// No encoded command is longer than this; the journal rejects longer records
// as corrupt.
inline constexpr std::size_t kMaxEncodedCommandBytes = 1024;

// Appends the encoding of `cmd` to *out (existing contents are kept) and
// returns the number of bytes appended. Never fails.
std::size_t EncodeCommand(const engine::Command& cmd,
                          std::vector<std::uint8_t>* out);

// Decodes one payload; `bytes` must be exactly one encoded command.
// Errors (nothing else can happen, whatever the input):
//   Corruption  empty or truncated input, an unknown record type or
//               version, an enum or flag byte out of range, a client order
//               id longer than 31 bytes, or bytes left over after the last
//               field.
Result<engine::Command> DecodeCommand(std::span<const std::uint8_t> bytes);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_COMMAND_CODEC_H_
