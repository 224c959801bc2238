// Disk trouble under a real carbonex-server: the journal or the registry
// cannot be written (a full file system, a read-only directory). The server
// must stop taking orders with a clear error and lose nothing it
// acknowledged; a settlement the registry refuses is retried in order, never
// skipped, and no snapshot is written past it.
//
// Full file systems are small tmpfs mounts and read-only directories are
// read-only bind mounts: both need root (CI runs as root). Without root the
// read-only cases fall back to chmod, and the full-disk cases are skipped
// with a warning.
#define CATCH_CONFIG_MAIN
#include <sys/mount.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "server_checks.h"
#include "server_harness.h"

namespace carbonex::testing {
namespace {

using namespace std::chrono_literals;
using fixclient::BuildNewOrderSingle;
using fixclient::Client;
using fixclient::TimeInForce;

// A tmpfs of a given size mounted on a directory (created if missing),
// unmounted at destruction.
class TmpfsMount {
 public:
  TmpfsMount(std::string path, std::size_t bytes) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    std::string data = "size=" + std::to_string(bytes) + ",mode=0700";
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, data.c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  [[nodiscard]] bool ok() const { return mounted_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  // Grows (or shrinks) the file system in place; its files stay.
  bool Resize(std::size_t bytes) {
    std::string data = "size=" + std::to_string(bytes);
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, data.c_str()) ==
           0;
  }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

// True when this process may mount file systems (root in CI).
bool CanMount(const std::string& scratch) {
  if (::geteuid() != 0) return false;
  TmpfsMount probe(scratch + "/mount-probe", 1 << 20);
  return probe.ok();
}

// Makes a directory read-only for everyone, root included: a read-only bind
// mount of it on itself (needs root). Undone at destruction.
class ReadOnlyDir {
 public:
  explicit ReadOnlyDir(std::string path) : path_(std::move(path)) {
    bound_ =
        ::mount(path_.c_str(), path_.c_str(), nullptr, MS_BIND, nullptr) == 0;
    if (bound_) {
      ok_ = ::mount(nullptr, path_.c_str(), nullptr,
                    MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
    }
  }
  ~ReadOnlyDir() { Undo(); }
  ReadOnlyDir(const ReadOnlyDir&) = delete;
  ReadOnlyDir& operator=(const ReadOnlyDir&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  void Undo() {
    if (bound_) ::umount2(path_.c_str(), MNT_DETACH);
    bound_ = false;
    ok_ = false;
  }

 private:
  std::string path_;
  bool bound_ = false;
  bool ok_ = false;
};

// Writes a file until the file system is full (ENOSPC); returns the bytes
// written. Deleting the file frees them.
std::size_t FillFileSystem(const std::string& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  std::vector<char> block(64 * 1024, 'x');
  std::size_t total = 0;
  for (std::size_t size = block.size(); size > 0; size /= 2) {
    while (true) {
      ssize_t n = ::write(fd, block.data(), size);
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  return total;
}

bool Contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// Client options that feed every application message to `ledger` and count
// the orders refused because settlement is stalled (ExecutionReport
// Rejected, OrdRejReason 99, Text "settlement stalled: ...").
fixclient::ClientOptions Observed(int port, AckLedger* ledger,
                                  std::atomic<int>* stalled) {
  fixclient::ClientOptions options = ClientFor(port, {"BRK1", "BRK2"});
  options.on_app_message = [ledger, stalled](std::size_t,
                                             const FIX::Message& m) {
    ledger->Observe(m);
    if (fixclient::MsgTypeOf(m) == "8" && Get(m, 150) == "8" &&
        Get(m, 103) == "99" && Get(m, 58).rfind("settlement stalled", 0) == 0) {
      stalled->fetch_add(1);
    }
  };
  return options;
}

TEST_CASE(
    "journal file system full: the server stops, nothing acknowledged "
    "is lost",
    "[e2e][disk]") {
  ScratchDir dir;
  if (!CanMount(dir.path())) {
    WARN("not root (or mounts not allowed): the full-journal test is skipped");
    return;
  }
  const unsigned seed = TestSeed();
  std::mt19937 rng(seed);
  const std::string db = dir.path() + "/db";
  Market::Create(db);
  const nlohmann::json start = RegistryJson(db, "holdings");
  // 192 KiB of journal: a few thousand orders.
  TmpfsMount journal(db + "/journal", 192 * 1024);
  REQUIRE(journal.ok());
  const int port = FreePort();
  ServerProcess server(db, port);
  std::string why;
  REQUIRE(server.Start(&why));

  AckLedger ledger;
  std::atomic<int> stalled{0};
  std::optional<int> exit_status;
  {
    Client c(Observed(port, &ledger, &stalled));
    REQUIRE(c.Start().ok());
    REQUIRE(c.WaitLoggedOn(0, 15s).ok());
    REQUIRE(c.WaitLoggedOn(1, 15s).ok());
    std::uniform_int_distribution<int> price(1950, 2050);
    for (int i = 0; i < 20000 && !exit_status; ++i) {
      std::size_t session = static_cast<std::size_t>(i % 2);
      Side side = session == 1 || rng() % 2 == 0 ? Side::kBuy : Side::kSell;
      std::string account = session == 1         ? "CO-C"
                            : side == Side::kBuy ? "CO-A"
                                                 : "CO-B";
      std::string id = "j" + std::to_string(i);
      ledger.Sent(id, {session, account, side});
      (void)c.Send(session, BuildNewOrderSingle(
                                LimitOrder(id, account, side, 1, price(rng),
                                           TimeInForce::kGoodTillCancel)));
      if (i % 100 == 99) exit_status = server.WaitExit(20ms);
    }
    if (!exit_status) exit_status = server.WaitExit(15s);
    c.Stop();
  }
  // The server stopped by itself, with an error, saying why.
  REQUIRE(exit_status.has_value());
  CHECK(*exit_status != 0);
  const std::string log = server.Log();
  CHECK(Contains(log, "journal failure"));
  CHECK(Contains(log, "stops accepting orders"));
  const auto acked = ledger.AckedOrders();
  INFO("acknowledged before the journal filled up: " << acked.size());
  REQUIRE(acked.size() > 100);

  // The operator makes room; the restart recovers every acknowledged order.
  REQUIRE(journal.Resize(std::size_t{64} << 20));
  REQUIRE(server.Start(&why));
  CheckAckedOrdersKnown(port, acked);
  REQUIRE(server.Terminate() == 0);
  CheckSettlement(db, start, ledger.BuyerFills(), /*exact=*/false);
}

TEST_CASE(
    "read-only journal or registry directory: the server refuses to "
    "start, changes nothing, and starts once it is writable",
    "[e2e][disk]") {
  ScratchDir dir;
  if (!CanMount(dir.path())) {
    WARN("not root (or mounts not allowed): the read-only test is skipped");
    return;
  }
  const std::string db = dir.path() + "/db";
  Market::Create(db);
  const nlohmann::json start = RegistryJson(db, "holdings");
  const int port = FreePort();
  ServerProcess server(db, port);
  std::string why;
  REQUIRE(server.Start(&why));
  AckLedger ledger;
  std::atomic<int> stalled{0};
  {
    Client c(Observed(port, &ledger, &stalled));
    REQUIRE(c.Start().ok());
    REQUIRE(c.WaitLoggedOn(0, 15s).ok());
    REQUIRE(c.WaitLoggedOn(1, 15s).ok());
    for (int i = 0; i < 20; ++i) {
      // BRK1 rests sells at 20.00 and 20.01; BRK2 buys at 20.00: half trade.
      std::string sell = "s" + std::to_string(i);
      ledger.Sent(sell, {0, "CO-B", Side::kSell});
      REQUIRE(c.Send(0, BuildNewOrderSingle(LimitOrder(
                            sell, "CO-B", Side::kSell, 2, 2000 + i % 2,
                            TimeInForce::kGoodTillCancel)))
                  .ok());
      std::string buy = "b" + std::to_string(i);
      ledger.Sent(buy, {1, "CO-C", Side::kBuy});
      REQUIRE(c.Send(1, BuildNewOrderSingle(
                            LimitOrder(buy, "CO-C", Side::kBuy, 1, 2000,
                                       TimeInForce::kGoodTillCancel)))
                  .ok());
    }
    for (int wait = 0; wait < 500 && ledger.AckedCount() < 40; ++wait) {
      std::this_thread::sleep_for(10ms);
    }
    c.Stop();
  }
  REQUIRE(ledger.AckedCount() == 40);
  REQUIRE(server.Terminate() == 0);
  const std::string stopped = server.LastHash("stopped:");
  const nlohmann::json holdings = RegistryJson(db, "holdings");

  const std::size_t log_mark = server.Log().size();
  SECTION("journal directory") {
    ReadOnlyDir read_only(db + "/journal");
    REQUIRE(read_only.ok());
    CHECK_FALSE(server.Start(&why));
    const std::string said = server.Log().substr(log_mark);
    INFO(said);
    CHECK(Contains(said, "journal"));
    CHECK(Contains(said, "Read-only file system"));
    CHECK(RegistryJson(db, "holdings") == holdings);
  }
  SECTION("registry directory") {
    ReadOnlyDir read_only(db);
    REQUIRE(read_only.ok());
    CHECK_FALSE(server.Start(&why));
    const std::string said = server.Log().substr(log_mark);
    INFO(said);
    CHECK(Contains(said, "Read-only file system"));
    read_only.Undo();
    CHECK(RegistryJson(db, "holdings") == holdings);
  }

  // Writable again: everything is back.
  REQUIRE(server.Start(&why));
  CHECK(server.LastHash("recovered:") == stopped);
  CheckAckedOrdersKnown(port, ledger.AckedOrders());
  REQUIRE(server.Terminate() == 0);
  CheckSettlement(db, start, ledger.BuyerFills(), /*exact=*/true);
}

// Trades one unit between BRK1 (seller) and BRK2 (buyer) and waits for both
// answers. Returns false once the exchange refuses an order because
// settlement is stalled.
bool TradeOnce(Client& c, AckLedger& ledger, const std::atomic<int>& halted,
               int n) {
  const int before = halted.load();
  const std::size_t acked = ledger.AckedCount();
  std::string sell = "s" + std::to_string(n);
  std::string seller = n % 2 == 0 ? "CO-A" : "CO-B";
  ledger.Sent(sell, {0, seller, Side::kSell});
  (void)c.Send(0, BuildNewOrderSingle(LimitOrder(sell, seller, Side::kSell, 1,
                                                 2000, TimeInForce::kDay)));
  std::string buy = "b" + std::to_string(n);
  ledger.Sent(buy, {1, "CO-C", Side::kBuy});
  (void)c.Send(1, BuildNewOrderSingle(LimitOrder(buy, "CO-C", Side::kBuy, 1,
                                                 2000, TimeInForce::kDay)));
  for (int wait = 0; wait < 1000; ++wait) {
    int answers = static_cast<int>(ledger.AckedCount() - acked) +
                  (halted.load() - before);
    if (answers >= 2) break;
    std::this_thread::sleep_for(2ms);
  }
  return halted.load() == before;
}

TEST_CASE(
    "registry file system full: new orders refused, settlement retried "
    "in order, every trade settles exactly once",
    "[e2e][disk]") {
  ScratchDir dir;
  if (!CanMount(dir.path())) {
    WARN(
        "not root (or mounts not allowed): the full-registry test is "
        "skipped");
    return;
  }
  const std::string db = dir.path() + "/db";
  // The registry's own file system is small; the journal and the FIX store
  // have their own, so that only the registry runs out of space.
  TmpfsMount registry_fs(db, std::size_t{8} << 20);
  REQUIRE(registry_fs.ok());
  TmpfsMount journal_fs(db + "/journal", std::size_t{64} << 20);
  TmpfsMount store_fs(db + "/fix-store", std::size_t{64} << 20);
  REQUIRE(journal_fs.ok());
  REQUIRE(store_fs.ok());
  Market::Create(db);
  const nlohmann::json start = RegistryJson(db, "holdings");
  const int port = FreePort();
  ServerProcess server(db, port);
  std::string why;
  REQUIRE(server.Start(&why));
  const std::string snapshot_at_start = [&] {
    std::ifstream in(db + "/engine.snapshot", std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  }();
  REQUIRE_FALSE(snapshot_at_start.empty());

  AckLedger ledger;
  std::atomic<int> halted{0};
  Client c(Observed(port, &ledger, &halted));
  REQUIRE(c.Start().ok());
  REQUIRE(c.WaitLoggedOn(0, 15s).ok());
  REQUIRE(c.WaitLoggedOn(1, 15s).ok());
  // A resting buy far from the market, to cancel during the halt.
  ledger.Sent("rest", {0, "CO-A", Side::kBuy});
  REQUIRE(c.Send(0, BuildNewOrderSingle(
                        LimitOrder("rest", "CO-A", Side::kBuy, 5, 1000,
                                   TimeInForce::kGoodTillCancel)))
              .ok());
  int n = 0;
  for (; n < 5; ++n) REQUIRE(TradeOnce(c, ledger, halted, n));

  const std::string filler = db + "/filler";
  REQUIRE(FillFileSystem(filler) > 0);
  // Trade until the registry cannot grow and the exchange halts.
  bool trading = true;
  for (; n < 3000 && trading; ++n) trading = TradeOnce(c, ledger, halted, n);
  REQUIRE_FALSE(trading);
  INFO("trades before the halt: " << ledger.BuyerFills().size());
  CHECK(Contains(server.Log(), "settlement stalled"));
  // Cancels still go through while halted.
  REQUIRE(c.Send(0, fixclient::BuildOrderCancelRequest(
                        {"rest-x", "rest", "CO-A", "KZQ-2026", Side::kBuy}))
              .ok());
  for (int wait = 0; wait < 500 && !ledger.WasCanceled("rest"); ++wait) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(ledger.WasCanceled("rest"));
  // Operator writes are refused (at once, not after a time-out).
  std::string said;
  CHECK(RegistryStatus(db, "cash deposit CO-A 100", &said) != 0);
  INFO(said);
  CHECK(Contains(said, "settlement stalled"));

  // Every trade a buyer was told of is settled exactly once, and nothing
  // else is. (Run at the end of each section: Catch may also run this test
  // case once more without entering a section.)
  auto check_settled = [&] {
    SettlementTotals totals =
        CheckSettlement(db, start, ledger.BuyerFills(), /*exact=*/true);
    CHECK(totals.trades >= 5);
  };
  SECTION("the disk is freed while the server runs: trading resumes") {
    std::filesystem::remove(filler);
    bool resumed = false;
    for (int wait = 0; wait < 100 && !resumed; ++wait, ++n) {
      resumed = TradeOnce(c, ledger, halted, n);
      if (!resumed) std::this_thread::sleep_for(100ms);
    }
    REQUIRE(resumed);
    CHECK(Contains(server.Log(), "settlement resumed"));
    for (int i = 0; i < 5; ++i, ++n) CHECK(TradeOnce(c, ledger, halted, n));
    std::this_thread::sleep_for(200ms);  // the last fills in flight
    c.Stop();
    REQUIRE(server.Terminate() == 0);
    check_settled();
  }
  SECTION(
      "the server stops on a full disk: no snapshot past an unsettled "
      "trade; the next start settles everything") {
    std::this_thread::sleep_for(200ms);  // the last fills in flight
    c.Stop();
    // Stopping on a full disk: either the batch is still refused (the
    // snapshot is then not renewed) or it went through and the snapshot
    // cannot be written (exit status 1). Either way the old snapshot stays.
    const int stopped = server.Terminate();
    const std::string log = server.Log();
    INFO(log);
    CHECK((stopped == 0 || stopped == 1));
    CHECK((Contains(log, "snapshot is not renewed") ||
           Contains(log, "engine.snapshot.tmp: No space left on device")));
    std::ifstream in(db + "/engine.snapshot", std::ios::binary);
    std::string snapshot((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
    CHECK(snapshot == snapshot_at_start);
    std::filesystem::remove(filler);
    REQUIRE(server.Start(&why));
    REQUIRE(server.Terminate() == 0);
    check_settled();
  }
}

}  // namespace
}  // namespace carbonex::testing
