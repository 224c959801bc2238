// Helpers shared by the ledger tests: a temporary directory, a registry in
// it, and a snapshot of everything observable, to check that a refused
// operation changed nothing.
#ifndef CARBONEX_TESTS_LEDGER_TEST_UTIL_H_
#define CARBONEX_TESTS_LEDGER_TEST_UTIL_H_

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>

#include "carbonex/ledger/registry.h"

namespace carbonex::ledger::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "carbonex-ledger-XXXXXX")
            .string();
    char* p = ::mkdtemp(tmpl.data());
    REQUIRE(p != nullptr);
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& Path() const { return path_; }
  [[nodiscard]] std::string Db() const { return path_ + "/db"; }

 private:
  std::string path_;
};

inline std::unique_ptr<Registry> OpenFresh(const std::string& dir,
                                           bool durable = false) {
  RegistryOptions options;
  options.path = dir;
  options.create_if_missing = true;
  options.durable = durable;
  options.map_size = std::size_t{256} << 20;
  auto r = Registry::Open(options);
  REQUIRE(r.ok());
  return std::move(*r);
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string DataFile(const std::string& rel) {
  return std::string(CARBONEX_DATA_DIR) + "/" + rel;
}

// Everything a caller can observe, as text.
inline std::string Snapshot(const Registry& r) {
  std::ostringstream out;
  auto h = r.Holdings(std::nullopt);
  REQUIRE(h.ok());
  for (const auto& a : *h) {
    out << a.name << " cash " << a.cash_held.value() << "/"
        << a.cash_reserved.value() << "\n";
    for (const auto& u : a.units) {
      out << "  " << u.symbol << " " << u.held.value() << "/"
          << u.reserved.value() << "\n";
    }
  }
  auto t = r.Trades({});
  REQUIRE(t.ok());
  out << "trades " << t->size() << "\n";
  auto i = r.Instruments();
  REQUIRE(i.ok());
  out << "instruments " << i->size() << "\n";
  auto c = r.Companies();
  REQUIRE(c.ok());
  for (const auto& co : *c) {
    out << co.spec.id << " caps " << co.caps.size() << "\n";
  }
  auto v = r.Verifiers();
  REQUIRE(v.ok());
  out << "verifiers " << v->size() << "\n";
  auto a = r.AuditVerify();
  REQUIRE(a.ok());
  out << "audit " << a->entries << " " << a->head_hash_hex << "\n";
  auto p = r.AppliedJournalPosition();
  REQUIRE(p.ok());
  out << "position " << *p << "\n";
  for (int year : {2018, 2019, 2020}) {
    auto comp = r.Compliance(year);
    REQUIRE(comp.ok());
    for (const auto& l : comp->companies) {
      out << year << " " << l.company << " " << l.verified_emissions.value()
          << " " << l.surrendered.value() << "\n";
    }
  }
  return out.str();
}

// The seed of a randomised test: CARBONEX_SEED if set, else random; printed.
inline std::uint64_t TestSeed() {
  std::uint64_t seed = 0;
  if (const char* env = std::getenv("CARBONEX_SEED")) {  // NOLINT
    seed = std::strtoull(env, nullptr, 10);
  } else {
    seed = std::random_device{}();
  }
  std::printf("CARBONEX_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace carbonex::ledger::testing

#endif  // CARBONEX_TESTS_LEDGER_TEST_UTIL_H_
