// libFuzzer target for the ledger's CSV reader and the allocation plan
// import (Registry::ImportPlan, docs/registry-cli.md).
//
// Input: the companies file, optionally followed by a NUL byte and the
// installations file; the last byte's low bit selects --with-emissions.
// The reader must either fail with a message or give rows that all have the
// header's width on ascending lines; the import runs against one registry in
// a temporary directory (created once per process, removed at exit) and
// must return a Status, whatever the text. Findings: a crash, a sanitizer
// report, an exception, or a broken reader invariant.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "carbonex/ledger/registry.h"
#include "csv_reader.h"

namespace {

class ScratchRegistry {
 public:
  ScratchRegistry() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "carbonex-fuzz-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::abort();
    }
    dir_ = pattern;
    carbonex::ledger::RegistryOptions options;
    options.path = (dir_ / "registry").string();
    options.create_if_missing = true;
    options.durable = false;
    options.map_size = std::size_t{64} << 20;
    auto opened = carbonex::ledger::Registry::Open(options);
    if (!opened.ok()) {
      std::abort();
    }
    registry_ = std::move(*opened);
  }
  ScratchRegistry(const ScratchRegistry&) = delete;
  ScratchRegistry& operator=(const ScratchRegistry&) = delete;
  ~ScratchRegistry() {
    registry_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  carbonex::ledger::Registry& Get() { return *registry_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<carbonex::ledger::Registry> registry_;
};

void CheckReader(std::string_view text) {
  carbonex::ledger::CsvTable table;
  if (!carbonex::ledger::CsvTable::Parse(text, "fuzz.csv", &table).ok()) {
    return;
  }
  std::size_t last_line = 1;
  for (const carbonex::ledger::CsvRecord& row : table.Rows()) {
    if (row.fields.size() != table.Header().size() || row.line <= last_line) {
      std::abort();
    }
    last_line = row.line;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  static ScratchRegistry registry;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  const std::string_view companies = input.substr(0, split);
  const std::string_view installations = split == std::string_view::npos
                                             ? std::string_view()
                                             : input.substr(split + 1);
  CheckReader(companies);
  CheckReader(installations);
  carbonex::ledger::PlanImportOptions options;
  options.with_emissions = size > 0 && (data[size - 1] & 1U) != 0;
  const auto result = registry.Get().ImportPlan(
      companies, "companies.csv", installations, "installations.csv", options);
  if (!result.ok() && result.status().message().empty()) {
    std::abort();  // every refusal must say why
  }
  return 0;
}
