// libFuzzer target for the journal's payload decoder (built only with
// -DCARBONEX_FUZZ=ON). Whatever the input, DecodeCommand must return a
// Status rather than crash, and whatever it accepts must encode back to the
// very same bytes (the format has one encoding per command).
//
//   scripts/fuzz 60 journal_decoder_fuzz
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "carbonex/gateway/command_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const auto decoded = carbonex::gateway::DecodeCommand(bytes);
  if (decoded.ok()) {
    std::vector<std::uint8_t> again;
    carbonex::gateway::EncodeCommand(*decoded, &again);
    if (again.size() != size ||
        !std::equal(again.begin(), again.end(), bytes.begin())) {
      std::abort();
    }
  }
  return 0;
}
