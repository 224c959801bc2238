// Runs a fuzz target's entry point over its seed corpus and its regression
// inputs (tests/fuzz/CMakeLists.txt), so that the default test run keeps
// every input that once crashed a target, without libFuzzer.
//
// CARBONEX_FUZZ_DIRS is a '|'-separated list of directories; a missing
// directory is skipped, but at least one input must exist in all. A target
// reports a finding by crashing (abort, a sanitizer report), exactly as under
// libFuzzer; the name of each input is printed before it runs so that the
// test's output names the culprit.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace {

std::vector<std::filesystem::path> Inputs() {
  std::vector<std::filesystem::path> files;
  std::string dirs = CARBONEX_FUZZ_DIRS;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find('|', start);
    if (end == std::string::npos) {
      end = dirs.size();
    }
    const std::filesystem::path dir = dirs.substr(start, end - start);
    start = end + 1;
    if (dir.empty() || !std::filesystem::is_directory(dir)) {
      continue;
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.is_regular_file()) {
        files.push_back(entry.path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE(CARBONEX_FUZZ_NAME ": every corpus and regression input", "[fuzz]") {
  const std::vector<std::filesystem::path> files = Inputs();
  REQUIRE_FALSE(files.empty());
  for (const std::filesystem::path& path : files) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    std::fprintf(stderr, "input %s (%zu bytes)\n", path.c_str(), bytes.size());
    // A copy the exact size of the input, as libFuzzer passes it, so that
    // ASan reports any read past its end.
    const std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    INFO(path.string());
    CHECK(LLVMFuzzerTestOneInput(data.data(), data.size()) == 0);
  }
}
