#include "carbonex/gateway/server.h"

#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <quickfix/Application.h>
#include <quickfix/Exceptions.h>
#include <quickfix/FileLog.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/ThreadedSocketAcceptor.h>
// QuickFIX declares its SSL classes only when HAVE_SSL is set; Debian's
// libquickfix is built with OpenSSL.
#ifndef HAVE_SSL
#define HAVE_SSL 1
#endif
#include <quickfix/ThreadedSSLSocketAcceptor.h>
#include <signal.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <semaphore>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>
#include <tuple>

#include "carbonex/engine/engine.h"
#include "carbonex/gateway/batching_responder.h"
#include "carbonex/gateway/fix_translate.h"
#include "carbonex/gateway/journal.h"
#include "carbonex/gateway/name_tables.h"
#include "carbonex/ledger/control.h"
#include "carbonex/ledger/registry.h"
#include "connection_limits.h"
#include "fix_store.h"
#include "logon_security.h"
#include "snapshot_file.h"

// QuickFIX's Application interface uses dynamic exception specifications,
// which C++17 removed; clang accepts them as an extension.
#pragma clang diagnostic ignored "-Wdynamic-exception-spec"

#ifndef CARBONEX_SOURCE_DICTIONARY
#define CARBONEX_SOURCE_DICTIONARY ""
#endif

namespace carbonex::gateway {
namespace {

using Clock = std::chrono::system_clock;

// The registry writer's pause after each commit (see WriterLoop).
constexpr timespec kSettlementGather{0, 10'000'000};
// How long writes to brokers may wait for room once the server stops.
constexpr std::chrono::seconds kStopWriteTime{2};

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// The most recent scheduled close at or before now_ns.
std::int64_t LastScheduledClose(std::int64_t now_ns, int close_minute) {
  constexpr std::int64_t kDay = 86'400'000'000'000;
  std::int64_t midnight = now_ns - now_ns % kDay;
  std::int64_t close =
      midnight + static_cast<std::int64_t>(close_minute) * 60'000'000'000;
  return close <= now_ns ? close : close - kDay;
}

class CollectingSink : public engine::EventSink {
 public:
  void OnEvent(const engine::Event& event) override { events.push_back(event); }
  std::vector<engine::Event> events;
};

// One item for the sequencer, pushed by a session thread, the control
// listener or the clock.
struct Inbound {
  enum class Kind : std::uint8_t {
    kCommand,      // body → journal → engine
    kMarketData,   // md: snapshot now, then (un)subscribe
    kOperator,     // line: a registry write, applied in sequence
    kCloseDay,     // expire Day orders
    kSessionDown,  // drop the broker's subscriptions
  };
  Kind kind = Kind::kCommand;
  BrokerId broker;
  engine::CommandBody body;
  std::shared_ptr<const MarketDataRequest> md;
  std::string line;
  std::shared_ptr<std::promise<std::string>> reply;
};

// One item for a session's sender thread.
struct Outbound {
  enum class Kind : std::uint8_t {
    kEvent,
    kIncrement,
    kSnapshot,
    kMessage,
    kFlush,  // write what the sequencer's deferred sends left behind
  };
  Kind kind = Kind::kEvent;
  engine::Event event;
  std::uint32_t index = 0;
  char action = '1';
  std::shared_ptr<const MarketDataRequest> md;
  std::string symbol;
  engine::DepthSnapshot depth;
  std::optional<FIX::Message> message;
};

// A wake-up flag for a thread that sleeps when its queue is empty: the
// producer pushes, then calls Notify(); the consumer calls Wait() only after
// finding its queue empty with sleeping set. A plain futex: std::atomic's
// wait() first spins through four sched_yield calls, each a system call,
// which cost more than they save on a busy machine.
class Waker {
 public:
  void Notify() {
    if (sleeping_.load()) {
      word_.fetch_add(1);
      Wake(1);
    }
  }
  // Sleeps unless `ready()` (re-checked after announcing the sleep) is true;
  // at most `timeout` when one is given.
  template <typename Ready>
  void Wait(Ready ready, const timespec* timeout = nullptr) {
    sleeping_.store(true);
    std::uint32_t seen = word_.load();
    if (!ready()) {
      // Returns at once if word_ moved on since `seen` (a Notify came in
      // between); a spurious return only costs one more loop.
      ::syscall(SYS_futex, &word_, FUTEX_WAIT_PRIVATE, seen, timeout, nullptr,
                0);
    }
    sleeping_.store(false);
  }
  void WakeAlways() {
    word_.fetch_add(1);
    Wake(std::numeric_limits<int>::max());
  }

 private:
  void Wake(int count) {
    ::syscall(SYS_futex, &word_, FUTEX_WAKE_PRIVATE, count, nullptr, nullptr,
              0);
  }

  std::atomic<bool> sleeping_{false};
  std::atomic<std::uint32_t> word_{0};
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
};

struct SessionSlot {
  SessionSlot(BrokerId id, std::string comp, bool cod, std::size_t limit)
      : broker(id),
        comp_id(std::move(comp)),
        cancel_on_disconnect(cod),
        queue(limit) {}
  BrokerId broker;
  std::string comp_id;
  bool cancel_on_disconnect;
  FIX::SessionID session_id;
  boost::lockfree::spsc_queue<Outbound*> queue;
  Waker waker;
  std::thread sender;
  // In front of the connection while logged on: the sender writes a run of
  // queued messages with one socket write.
  BatchingResponder responder;
  std::atomic<bool> logged_on{false};
  // Set when the broker is found not reading (its outbound queue over the
  // limit, or a write blocked for send_timeout_seconds) and the session is
  // told to log out; cleared at its next logon. While set, the sender writes
  // nothing more to the connection and holds its messages until the
  // connection is gone (then they go to the session's store), so that the
  // Logout, which the session's own thread sends and whose timeout then ends
  // the connection, is neither stuck behind them nor put off by them.
  std::atomic<bool> muted{false};
  // Set with muted, when the session is told to log out for not reading
  // (QuickFIX then refuses its next Logon); cleared by the sequencer, which
  // accepts logons again once the connection is gone and every message
  // queued for the session is in its store (so a resend request brings all
  // of them back).
  std::atomic<bool> logon_blocked{false};
  // Outbound messages the sender has finished with (sent, stored or
  // dropped); the sequencer compares it with `handed`.
  std::atomic<std::uint64_t> finished{0};
  // Sequencer only.
  FIX::Session* session = nullptr;  // looked up once
  bool deferred = false;            // sent to directly in the current dispatch
  std::deque<Outbound*> overflow;
  std::uint64_t handed = 0;  // pushed onto `queue`
  bool over_limit = false;
  std::vector<std::shared_ptr<const MarketDataRequest>> subscriptions;
  // Logon: a digest of the last password verified against the registry.
  std::mutex auth_mu;
  std::optional<std::array<unsigned char, 32>> verified;
  // Counted against max_sessions (guarded by Impl::sessions_mu_): set when
  // its Logon is accepted, cleared at logout.
  bool admitted = false;
  // Message rate: messages in the current one-second window (rate_mu).
  std::mutex rate_mu;
  std::int64_t rate_window_ns = 0;
  std::uint32_t rate_count = 0;
  // Over the rate: rejected once, logged out; nothing more it sends is
  // processed until its next Logon.
  std::atomic<bool> throttled{false};
};

// What the sequencer dispatches after a commit, in sequence order.
struct DispatchMark {
  std::size_t event_pos = 0;  // dispatch after events [0, event_pos)
  Inbound* item = nullptr;    // a market data request or session down
  std::vector<engine::DepthSnapshot> depths;  // for market data
  std::size_t expired = 0;
};

// The FIX message for an outbound item (none for an event the broker is
// not told of).
std::optional<FIX::Message> MessageFor(Outbound& out,
                                       const NameTables& tables) {
  switch (out.kind) {
    case Outbound::Kind::kEvent:
      return BrokerMessageFor(out.event, out.index, tables);
    case Outbound::Kind::kIncrement:
      return MarketDataIncrement(*out.md, out.event, tables, out.action);
    case Outbound::Kind::kSnapshot:
      return MarketDataSnapshot(*out.md, out.symbol, out.depth);
    case Outbound::Kind::kMessage:
      return std::move(out.message);
    case Outbound::Kind::kFlush:
      break;
  }
  return std::nullopt;
}

}  // namespace

class Server::Impl : public FIX::Application {
 public:
  explicit Impl(ServerOptions options)
      : options_(std::move(options)),
        exec_ids_(NowNs()),
        throttle_(ThrottleOptions(options_.config)),
        inbound_(8192),
        writer_queue_(4096) {}
  ~Impl() override;

  Status Start();
  Status Stop();
  [[nodiscard]] std::uint16_t port() const { return options_.config.fix_port; }

  std::atomic<std::uint64_t> published_hash_{0};
  std::atomic<std::uint64_t> published_seq_{0};

  // FIX::Application.
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& id) override;
  void onLogout(const FIX::SessionID& id) override;
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  // QuickFIX 1.15 declares these with dynamic exception specifications; an
  // override must repeat them, and must let nothing else escape.
  void toApp(FIX::Message&,
             const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message& message,
                 const FIX::SessionID& id) throw(FIX::FieldNotFound,
                                                 FIX::IncorrectDataFormat,
                                                 FIX::IncorrectTagValue,
                                                 FIX::RejectLogon) override;
  void fromApp(const FIX::Message& message, const FIX::SessionID& id) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override;
  void HandleLogon(const FIX::Message& message, const FIX::SessionID& id);
  [[noreturn]] void RefuseLogon(const std::string& comp_id,
                                const std::string& address,
                                const std::string& reason, bool count_failure);
  // The first message of a connection whose CompIDs name no session
  // (QuickFIX drops the connection): a failed logon for the remote address's
  // throttle and the audit log. On that connection's thread.
  void OnUnknownSession(const std::string& raw);
  void HandleApp(const FIX::Message& message, const FIX::SessionID& id);
  // Counts the session against max_sessions; throws RejectLogon when full.
  void Admit(SessionSlot* slot, const FIX::SessionID& id);
  // Counts one message against max_messages_per_second. false: the message
  // must not be processed (the session is over the rate: the first such
  // message is answered with BusinessMessageReject and the session is
  // logged out).
  bool WithinRate(SessionSlot* slot, const FIX::Message& message,
                  const FIX::SessionID& id);

 private:
  std::string Path(const std::string& name) const {
    return options_.db_dir + "/" + name;
  }
  Status Recover();
  Status StartAcceptor();
  Result<std::string> DictionaryPath() const;

  void Push(Inbound* item) {
    inbound_.push(item);
    sequencer_waker_.Notify();
  }
  SessionSlot* SlotFor(const FIX::SessionID& id) const {
    auto it = slots_by_comp_.find(id.getTargetCompID().getValue());
    return it == slots_by_comp_.end() ? nullptr : it->second;
  }
  SessionSlot* SlotFor(BrokerId broker) const {
    auto it = slots_.find(broker.value());
    return it == slots_.end() ? nullptr : it->second.get();
  }

  // Sequencer.
  void SequencerLoop();
  // Looks for a command on the inbound queue for up to sequencer_spin_us
  // (at least 64 times); appends it to `batch` when one comes.
  void SpinForCommand(std::vector<Inbound*>& batch);
  void ProcessBatch(const std::vector<Inbound*>& batch);
  void ExecuteStamped(const engine::CommandBody& body, BrokerId broker);
  void CommitAndDispatch();
  void RunOperator(Inbound* item);
  // A message for a session: written by the sequencer itself when that
  // cannot wait on the broker (SendDirect), otherwise handed to the
  // session's sender (HandOver). FlushDirect() ends a dispatch.
  // Only a message handed over is put on the heap.
  void Enqueue(SessionSlot* slot, Outbound&& out, const NameTables& tables);
  bool SendDirect(SessionSlot* slot, Outbound& out, const NameTables& tables);
  void FlushDirect();
  void HandOver(SessionSlot* slot, Outbound* out);
  void DrainOverflow();
  // A session has messages waiting in its overflow, or is waiting to be
  // allowed to log on again.
  bool HasBacklog() const;
  // Fills levels_ from the engine's books (at start, after recovery).
  void SeedLevels();
  // Market data for one level change: levels_ updated, and for each
  // subscription to the symbol its incrementals (for one limited to the best
  // N levels, also the level that enters or leaves them).
  void DispatchLevel(const engine::Event& event,
                     const engine::BookLevelChanged& level,
                     const NameTables& tables);
  void PushRegistryBatch();
  // Waits until the registry writer has applied every batch pushed; false
  // (at once) while settlement is stalled.
  bool FlushRegistryWriter();
  void Fail(const Status& status);

  // Other threads.
  void SenderLoop(SessionSlot* slot);
  void WriterLoop();
  void ClockLoop();
  void ControlLoop();
  void ServeControlClient(int fd);
  void AuditLoop();
  void FlushLogonRecords();

  static LogonThrottleOptions ThrottleOptions(const ServerConfig& config) {
    LogonThrottleOptions o;
    o.failures_per_comp_id = config.logon_failures_per_comp_id;
    o.failures_per_address = config.logon_failures_per_address;
    o.window = std::chrono::seconds(config.logon_failure_window_seconds);
    o.backoff = std::chrono::seconds(config.logon_backoff_seconds);
    return o;
  }

  ServerOptions options_;
  ExecIdSource exec_ids_;
  std::unique_ptr<ledger::ServerLock> lock_;
  std::unique_ptr<ledger::Registry> registry_;
  std::unique_ptr<JournalWriter> journal_;
  CollectingSink sink_;
  std::unique_ptr<engine::Engine> engine_;
  std::atomic<std::shared_ptr<const NameTables>> tables_;
  KnownEntities known_;

  // Logon security (session threads; the audit thread flushes the records).
  LogonThrottle throttle_;
  LogonRecorder logon_records_;
  // crypto_pwhash verification takes 64 MiB and up to a second of CPU: at
  // most this many run at once, whatever the number of connections.
  std::counting_semaphore<64> verify_slots_{2};
  // Key of the in-memory digest of each session's last verified password.
  std::array<unsigned char, crypto_generichash_KEYBYTES> digest_key_{};
  AcceptorKind acceptor_kind_ = AcceptorKind::kThreadedSocket;
  std::thread audit_;
  std::atomic<bool> stop_audit_{false};

  // Sequencer state (sequencer thread only, or before threads start).
  std::uint64_t last_seq_ = 0;
  std::int64_t last_time_ns_ = 0;
  std::atomic<std::int64_t> last_close_ns_{0};
  bool uncommitted_ = false;
  std::vector<DispatchMark> marks_;
  std::vector<SessionSlot*> deferred_slots_;  // SendDirect'ed, to flush
  FixBodyWriter report_body_;                 // SendDirect's report body
  std::string report_wire_;                   // and the whole message
  // Every price level of every book, as market data has announced it:
  // (instrument, side, price) -> (total quantity, order count). Seeded from
  // the engine at start; kept by the sequencer from BookLevelChanged events,
  // in event order (the engine's own book is already at the batch's end).
  using LevelKey = std::tuple<std::uint32_t, std::uint8_t, std::int64_t>;
  std::map<LevelKey, std::pair<std::int64_t, std::uint32_t>> levels_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> touched_;  // acct, instr
  ledger::ServerBatch pending_;
  std::deque<ledger::ServerBatch*> writer_backlog_;
  std::vector<std::shared_ptr<std::promise<std::string>>> close_replies_;
  std::atomic<bool> failed_{false};

  std::map<std::uint32_t, std::unique_ptr<SessionSlot>> slots_;
  std::map<std::string, SessionSlot*> slots_by_comp_;

  boost::lockfree::queue<Inbound*> inbound_;
  Waker sequencer_waker_;
  std::thread sequencer_;
  std::atomic<bool> stop_sequencer_{false};

  boost::lockfree::spsc_queue<ledger::ServerBatch*> writer_queue_;
  Waker writer_waker_;
  // Cuts the registry writer's pause short (an operator write waits for it).
  Waker writer_pause_;
  std::atomic<bool> writer_hurry_{false};
  std::atomic<std::uint64_t> writer_pushed_{0};
  std::atomic<std::uint64_t> writer_applied_{0};
  std::thread writer_;
  std::atomic<bool> stop_writer_{false};
  // Set by the registry writer when a settlement batch was still refused at
  // stop: the engine is then ahead of the registry, so Stop() keeps the old
  // snapshot and the journal after it for the next start to settle from.
  std::atomic<bool> unsettled_{false};
  std::mutex sessions_mu_;
  std::size_t admitted_sessions_ = 0;  // sessions_mu_
  // Set by the registry writer while a settlement batch is refused (e.g. the
  // LMDB map is full): new orders and replaces are refused meanwhile.
  std::atomic<bool> settlement_stalled_{false};

  std::atomic<bool> stop_senders_{false};
  std::atomic<bool> stop_aux_{false};
  std::atomic<bool> close_pending_{false};
  std::thread clock_;
  std::thread control_;
  int control_fd_ = -1;

  std::atomic<bool> accepting_{false};
  std::atomic<bool> stopped_{false};
  std::unique_ptr<FIX::SessionSettings> settings_;
  std::unique_ptr<MappedStoreFactory> store_factory_;
  std::unique_ptr<RedactingLogFactory> log_factory_;
  std::unique_ptr<FIX::Acceptor> acceptor_;
  // acceptor_ once started, for the clock thread (which starts earlier).
  std::atomic<FIX::Acceptor*> started_acceptor_{nullptr};
};

// ---------------------------------------------------------------------------
// Start-up and recovery

Result<std::string> Server::Impl::DictionaryPath() const {
  std::vector<std::string> candidates;
  if (!options_.config.data_dictionary.empty()) {
    candidates.push_back(options_.config.data_dictionary);
  } else {
    if (!options_.program_dir.empty()) {
      candidates.push_back(options_.program_dir + "/CARBONEX-FIX44.xml");
    }
    candidates.emplace_back(CARBONEX_SOURCE_DICTIONARY);
  }
  for (const std::string& path : candidates) {
    if (!path.empty() && ::access(path.c_str(), R_OK) == 0) return path;
  }
  return Status::InvalidArgument(
      "FIX data dictionary not found (set data_dictionary in the config): " +
      (candidates.empty() ? std::string() : candidates.front()));
}

Status Server::Impl::Recover() {
  Result<AccountState> state = registry_->LoadAccountState();
  if (!state.ok()) return state.status();
  engine::EngineOptions engine_options;
  engine_options.emit_market_data = options_.config.market_data;
  engine_options.expected_orders = std::size_t{1} << 18;
  engine_options.max_open_orders_per_account =
      options_.config.max_open_orders_per_account;
  engine_options.max_open_orders_per_broker =
      options_.config.max_open_orders_per_broker;
  // The journal after a snapshot is replayed with the limits of the run that
  // wrote it; the configured ones apply from the fresh snapshot on.
  engine::EngineOptions configured_options = engine_options;

  const std::string snapshot_path = Path("engine.snapshot");
  const std::string journal_dir = Path("journal");
  Result<std::optional<SnapshotFile>> snapshot =
      ReadSnapshotFile(snapshot_path);
  if (!snapshot.ok()) return snapshot.status();
  Result<std::vector<JournalSegment>> segments =
      ListJournalSegments(journal_dir);
  if (!segments.ok()) return segments.status();

  std::uint64_t snapshot_seq = 0;
  if (snapshot->has_value()) {
    SnapshotFile& s = **snapshot;
    engine_options.max_open_orders_per_account = s.max_open_orders_per_account;
    engine_options.max_open_orders_per_broker = s.max_open_orders_per_broker;
    Result<std::unique_ptr<engine::Engine>> loaded =
        engine::Engine::LoadSnapshot(engine_options, s.engine, &sink_);
    if (!loaded.ok()) return loaded.status();
    engine_ = std::move(*loaded);
    if (engine_->StateHash() != s.state_hash) {
      return Status::Corruption("snapshot " + snapshot_path +
                                ": state hash does not match its engine state");
    }
    known_ = s.known;
    snapshot_seq = s.seq;
    last_seq_ = s.seq;
    last_time_ns_ = s.last_time_ns;
    last_close_ns_ = s.last_close_ns;
    spdlog::info("snapshot loaded: seq {} state hash {:016x}", s.seq,
                 s.state_hash);
  } else {
    if (!segments->empty()) {
      return Status::FailedPrecondition(
          "journal " + journal_dir +
          " exists but engine.snapshot is missing: cannot recover");
    }
    engine_ = std::make_unique<engine::Engine>(engine_options, *state, &sink_);
    known_ = KnownEntities::From(*state);
    last_close_ns_ = NowNs();
    spdlog::info("first start: engine built from the registry");
  }

  // Replay the journal after the snapshot; collect trades not yet settled.
  Result<std::uint64_t> applied = registry_->AppliedJournalPosition();
  if (!applied.ok()) return applied.status();
  Result<std::unique_ptr<JournalReader>> reader =
      JournalReader::Open(journal_dir);
  if (!reader.ok()) return reader.status();
  std::uint64_t replayed = 0;
  std::vector<ledger::TradeRecord> trades;
  std::set<std::pair<std::uint32_t, std::uint32_t>> touched;
  auto start = std::chrono::steady_clock::now();
  while (true) {
    Result<std::optional<engine::Command>> next = (*reader)->Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    const engine::Command& command = **next;
    if (command.header.seq.value() <= snapshot_seq) continue;
    sink_.events.clear();
    engine_->Execute(command);
    ++replayed;
    last_seq_ = command.header.seq.value();
    last_time_ns_ = command.header.time.value();
    if (std::holds_alternative<engine::ExpireDayOrders>(command.body)) {
      last_close_ns_ = command.header.time.value();
    }
    for (const engine::Event& event : sink_.events) {
      if (const auto* t = std::get_if<engine::TradeExecuted>(&event.body)) {
        touched.emplace(t->buyer.value(), t->instrument.value());
        touched.emplace(t->seller.value(), t->instrument.value());
        if (command.header.seq.value() > *applied) {
          trades.push_back(ledger::TradeRecord{
              t->trade_id, t->instrument, t->price, t->qty, t->buyer, t->seller,
              t->buy_order, t->sell_order, event.header.time});
        }
      }
    }
  }
  sink_.events.clear();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  spdlog::info(
      "journal replayed: {} commands after seq {} in {:.3f} s; last seq {}; "
      "{} trades to settle",
      replayed, snapshot_seq, seconds, last_seq_, trades.size());
  std::uint64_t recovered_hash = engine_->StateHash();
  spdlog::info("recovered: seq {} state hash {:016x}", last_seq_,
               recovered_hash);

  // Settle what the registry has not seen, and set every reservation.
  for (const auto& pair : touched) known_.positions.insert(pair);
  ledger::ServerBatch batch;
  batch.trades = std::move(trades);
  batch.journal_position = std::max<std::uint64_t>(last_seq_, *applied);
  for (const auto& [account, instrument] : known_.positions) {
    batch.reservations.push_back(ledger::ReservationUpdate{
        AccountId(account), InstrumentId(instrument),
        engine_->Position(AccountId(account), InstrumentId(instrument))
            .reserved,
        Cash(0)});
  }
  for (std::uint32_t account : known_.accounts) {
    batch.reservations.push_back(ledger::ReservationUpdate{
        AccountId(account), std::nullopt, Quantity(0),
        engine_->CashOf(AccountId(account)).reserved});
  }
  Status settled = registry_->ApplyServerBatch(batch);
  if (!settled.ok()) {
    return Status(settled.code(),
                  "settling recovered trades: " + settled.message());
  }

  // Open the journal for appending and reconcile with the registry.
  JournalOptions journal_options;
  journal_options.dir = journal_dir;
  journal_options.sync = options_.config.sync_mode;
  journal_options.reserve_bytes = kServerJournalReserveBytes;
  Result<std::unique_ptr<JournalWriter>> writer =
      JournalWriter::Open(journal_options);
  if (!writer.ok()) return writer.status();
  journal_ = std::move(*writer);
  if (!journal_->recovery_report().empty()) {
    spdlog::warn("journal: {}", journal_->recovery_report());
  }
  if (journal_->last_seq().value() > last_seq_)
    last_seq_ = journal_->last_seq().value();

  state = registry_->LoadAccountState();
  if (!state.ok()) return state.status();
  std::vector<engine::CommandBody> reconcile =
      ReconcileCommands(*state, *engine_, &known_);
  for (const engine::CommandBody& body : reconcile) {
    ExecuteStamped(body, engine::kOperatorBroker);
  }
  sink_.events.clear();
  if (!reconcile.empty()) {
    Status committed = journal_->Commit();
    if (!committed.ok()) return committed;
    spdlog::info("reconciled {} registry changes made while stopped",
                 reconcile.size());
  }
  uncommitted_ = false;
  tables_.store(std::make_shared<const NameTables>(*state));
  SeedLevels();

  // A scheduled close that passed while the server was down.
  if (options_.config.close_minute_utc &&
      last_close_ns_ <
          LastScheduledClose(NowNs(), *options_.config.close_minute_utc)) {
    ExecuteStamped(engine::ExpireDayOrders{}, engine::kOperatorBroker);
    std::size_t expired = 0;
    for (const auto& e : sink_.events) {
      expired += std::holds_alternative<engine::OrderExpired>(e.body) ? 1 : 0;
    }
    sink_.events.clear();
    Status committed = journal_->Commit();
    if (!committed.ok()) return committed;
    last_close_ns_ = last_time_ns_;
    spdlog::info(
        "trading day closed at start (close time passed): {} Day "
        "orders expired",
        expired);
    uncommitted_ = false;
  }

  // A fresh snapshot: the next start replays only what comes after it.
  SnapshotFile fresh;
  fresh.seq = last_seq_;
  fresh.last_time_ns = last_time_ns_;
  fresh.last_close_ns = last_close_ns_;
  fresh.state_hash = engine_->StateHash();
  fresh.known = known_;
  fresh.engine = engine_->SaveSnapshot();
  fresh.max_open_orders_per_account =
      configured_options.max_open_orders_per_account;
  fresh.max_open_orders_per_broker =
      configured_options.max_open_orders_per_broker;
  Status written = WriteSnapshotFile(snapshot_path, fresh);
  if (!written.ok()) return written;
  if (engine_options.max_open_orders_per_account !=
          configured_options.max_open_orders_per_account ||
      engine_options.max_open_orders_per_broker !=
          configured_options.max_open_orders_per_broker) {
    Result<std::unique_ptr<engine::Engine>> reloaded =
        engine::Engine::LoadSnapshot(configured_options, fresh.engine, &sink_);
    if (!reloaded.ok()) return reloaded.status();
    engine_ = std::move(*reloaded);
    if (engine_->StateHash() != fresh.state_hash) {
      return Status::Internal(
          "engine reloaded with the configured open-order limits has a "
          "different state hash");
    }
    spdlog::info(
        "open-order limits now {} per account, {} per broker (0: none)",
        configured_options.max_open_orders_per_account,
        configured_options.max_open_orders_per_broker);
  }
  Status removed =
      RemoveJournalSegmentsBefore(journal_dir, SequenceNumber(last_seq_ + 1));
  if (!removed.ok()) spdlog::warn("journal cleanup: {}", removed.message());
  published_hash_ = fresh.state_hash;
  published_seq_ = last_seq_;
  spdlog::info("start state: seq {} state hash {:016x}", last_seq_,
               fresh.state_hash);
  return Status::Ok();
}

Status Server::Impl::StartAcceptor() {
  Result<std::string> dictionary = DictionaryPath();
  if (!dictionary.ok()) return dictionary.status();
  std::shared_ptr<const NameTables> tables = tables_.load();
  if (tables->brokers().empty()) {
    return Status::FailedPrecondition(
        "no broker is registered: add one with `carbonex-registry broker add`");
  }
  std::ostringstream cfg;
  cfg << "[DEFAULT]\n"
      << "ConnectionType=acceptor\n"
      << "BeginString=FIX.4.4\n"
      << "SenderCompID=" << options_.config.comp_id << "\n"
      << "SocketAcceptPort=" << options_.config.fix_port << "\n"
      << "SocketReuseAddress=Y\n"
      << "SocketNodelay=Y\n"
      << "StartTime=00:00:00\n"
      << "EndTime=00:00:00\n"
      << "UseDataDictionary=Y\n"
      << "DataDictionary=" << *dictionary << "\n"
      << "ValidateUserDefinedFields=Y\n"
      << "ResetOnLogon=N\nResetOnLogout=N\nResetOnDisconnect=N\n"
      << "PersistMessages=Y\n"
      << "LogonTimeout=" << options_.config.logon_timeout_seconds << "\n"
      << "FileLogPath=" << Path("fix-log") << "\n";
  const ServerConfig& config = options_.config;
  const bool tls = !config.tls_certificate.empty();
  if (tls) {
    for (const std::string* file :
         {&config.tls_certificate, &config.tls_private_key, &config.tls_ca}) {
      if (!file->empty() && ::access(file->c_str(), R_OK) != 0) {
        return Status::InvalidArgument("TLS file not readable: " + *file);
      }
    }
    // TLS 1.2 and later only (OpenSSL negotiates 1.3 when both sides can).
    cfg << "ServerCertificateFile=" << config.tls_certificate << "\n"
        << "ServerCertificateKeyFile=" << config.tls_private_key << "\n"
        << "SSLProtocol=-all +TLSv1_2\n";
    if (!config.tls_ca.empty()) {
      cfg << "CertificationAuthoritiesFile=" << config.tls_ca << "\n"
          << "CertificateVerifyLevel=1\n";  // a client certificate required
    }
  }
  // QuickFIX creates its log files with the process umask (carbonex-server
  // sets 077); the directories are owner-only as well, also when they were
  // made by an older version or under another umask.
  for (const char* name : {"fix-store", "fix-log"}) {
    const std::string dir = Path(name);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::IoError("cannot create " + dir + ": " +
                             std::generic_category().message(errno));
    }
    if (::chmod(dir.c_str(), 0700) != 0) {
      return Status::IoError("cannot restrict " + dir + ": " +
                             std::generic_category().message(errno));
    }
  }
  for (const BrokerEntry& broker : tables->brokers()) {
    cfg << "[SESSION]\nTargetCompID=" << broker.comp_id << "\n";
  }
  try {
    std::istringstream in(cfg.str());
    settings_ = std::make_unique<FIX::SessionSettings>(in);
    store_factory_ = std::make_unique<MappedStoreFactory>(Path("fix-store"));
    // Always a log factory: without fix_log it writes no files but still
    // reports connections of unknown sessions.
    log_factory_ = std::make_unique<RedactingLogFactory>(
        options_.config.fix_log ? settings_.get() : nullptr,
        [this](const std::string& raw) { OnUnknownSession(raw); });
    // PeerAddressOf depends on the acceptor class: keep acceptor_kind_ in
    // step with what is created here.
    acceptor_kind_ =
        tls ? AcceptorKind::kThreadedSsl : AcceptorKind::kThreadedSocket;
    if (tls) {
      acceptor_ = std::make_unique<FIX::ThreadedSSLSocketAcceptor>(
          *this, *store_factory_, *settings_, *log_factory_);
    } else {
      acceptor_ = std::make_unique<FIX::ThreadedSocketAcceptor>(
          *this, *store_factory_, *settings_, *log_factory_);
    }
    acceptor_->start();
    if (tls) {
      spdlog::info("FIX over TLS: certificate {}", config.tls_certificate);
    }
  } catch (const std::exception& e) {
    return Status::IoError(std::string("starting the FIX acceptor: ") +
                           e.what());
  }
  started_acceptor_ = acceptor_.get();
  Status timeout = SetListenerSendTimeout(*acceptor_, acceptor_kind_,
                                          options_.config.send_timeout_seconds);
  if (!timeout.ok()) {
    spdlog::warn("{}: a broker that stops reading can block its session",
                 timeout.message());
  }
  return Status::Ok();
}

Status Server::Impl::Start() {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to start");
  randombytes_buf(digest_key_.data(), digest_key_.size());
  Result<std::unique_ptr<ledger::ServerLock>> lock =
      ledger::ServerLock::TryAcquire(options_.db_dir);
  if (!lock.ok()) return lock.status();
  lock_ = std::move(*lock);
  ledger::RegistryOptions registry_options;
  registry_options.path = options_.db_dir;
  registry_options.durable = options_.config.sync_mode == SyncMode::kDurable;
  registry_options.map_size = options_.config.registry_map_size_mib << 20;
  Result<std::unique_ptr<ledger::Registry>> registry =
      ledger::Registry::Open(registry_options);
  if (!registry.ok()) return registry.status();
  registry_ = std::move(*registry);

  Status recovered = Recover();
  if (!recovered.ok()) return recovered;

  std::shared_ptr<const NameTables> tables = tables_.load();
  for (const BrokerEntry& broker : tables->brokers()) {
    auto slot = std::make_unique<SessionSlot>(
        broker.id, broker.comp_id, broker.cancel_on_disconnect,
        options_.config.outbound_queue_limit);
    slot->session_id =
        FIX::SessionID("FIX.4.4", options_.config.comp_id, broker.comp_id);
    slots_by_comp_[broker.comp_id] = slot.get();
    slots_[broker.id.value()] = std::move(slot);
  }
  for (auto& [id, slot] : slots_) {
    SessionSlot* s = slot.get();
    s->sender = std::thread([this, s] { SenderLoop(s); });
  }
  writer_ = std::thread([this] { WriterLoop(); });
  sequencer_ = std::thread([this] { SequencerLoop(); });

  Result<int> control = ledger::ListenControlSocket(options_.db_dir);
  if (!control.ok()) return control.status();
  control_fd_ = *control;
  control_ = std::thread([this] { ControlLoop(); });
  clock_ = std::thread([this] { ClockLoop(); });
  audit_ = std::thread([this] { AuditLoop(); });

  accepting_ = true;
  Status acceptor = StartAcceptor();
  if (!acceptor.ok()) return acceptor;
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// QuickFIX callbacks (session threads)

void Server::Impl::onLogon(const FIX::SessionID& id) {
  SessionSlot* slot = SlotFor(id);
  if (slot == nullptr) return;
  {
    std::lock_guard<std::mutex> guard(slot->rate_mu);
    slot->rate_window_ns = 0;
    slot->rate_count = 0;
  }
  slot->throttled = false;
  slot->muted = false;
  slot->logged_on = true;
  std::string address = PeerAddressOf(id, acceptor_kind_);
  if (FIX::Session* session = FIX::Session::lookupSession(id)) {
    (void)slot->responder.Attach(
        *session, acceptor_kind_ == AcceptorKind::kThreadedSocket
                      ? BatchingResponder::Connection::kAcceptorSocket
                      : BatchingResponder::Connection::kOther);
  }
  logon_records_.Add(slot->comp_id, address, ledger::LogonOutcome::kAccepted,
                     "", NowNs());
  spdlog::info("session {} logged on from {}", slot->comp_id,
               address.empty() ? "?" : address);
}

void Server::Impl::onLogout(const FIX::SessionID& id) {
  SessionSlot* slot = SlotFor(id);
  if (slot == nullptr) return;
  bool was_on = slot->logged_on.exchange(false);
  {
    std::lock_guard<std::mutex> guard(sessions_mu_);
    if (slot->admitted) {
      slot->admitted = false;
      --admitted_sessions_;
    }
  }
  spdlog::info("session {} logged out", slot->comp_id);
  if (slot->throttled.load() && !slot->logon_blocked.load()) {
    // Logged out for its message rate: its next Logon is welcome (unless it
    // was also found not reading: the sequencer lets that one back).
    if (FIX::Session* session = FIX::Session::lookupSession(id)) {
      session->logon();
    }
  }
  auto down = new Inbound;
  down->kind = Inbound::Kind::kSessionDown;
  down->broker = slot->broker;
  Push(down);
  if (was_on && slot->cancel_on_disconnect && accepting_) {
    auto cancel = new Inbound;
    cancel->broker = slot->broker;
    engine::MassCancel mass;
    // No ClOrdID: each report names the order itself (FIX q requests always
    // carry one, so an empty id marks cancel-on-disconnect).
    mass.scope = engine::MassCancelScope::kBroker;
    mass.day_orders_only = true;
    cancel->body = mass;
    Push(cancel);
    spdlog::info("session {}: cancel-on-disconnect of its Day orders",
                 slot->comp_id);
  }
}

void Server::Impl::fromAdmin(
    const FIX::Message& message,
    const FIX::SessionID& id) throw(FIX::FieldNotFound,
                                    FIX::IncorrectDataFormat,
                                    FIX::IncorrectTagValue, FIX::RejectLogon) {
  try {
    HandleLogon(message, id);
    SessionSlot* slot = SlotFor(id);
    const std::string& type = message.getHeader().getField(35);
    if (slot != nullptr && type == "A") {
      Admit(slot, id);
    } else if (slot != nullptr && type != "5") {
      (void)WithinRate(slot, message, id);
    }
  } catch (const FIX::RejectLogon&) {
    throw;
  } catch (const FIX::FieldNotFound&) {
    throw;
  } catch (const std::exception& e) {
    spdlog::error("logon handling failed: {}", e.what());
    throw FIX::RejectLogon("logon could not be processed");
  }
}

void Server::Impl::RefuseLogon(const std::string& comp_id,
                               const std::string& address,
                               const std::string& reason, bool count_failure) {
  spdlog::warn("logon of {} from {} refused: {}", comp_id,
               address.empty() ? "?" : address, reason);
  if (count_failure) {
    throttle_.RecordFailure(comp_id, address, std::chrono::steady_clock::now());
  }
  logon_records_.Add(comp_id, address, ledger::LogonOutcome::kRefused, reason,
                     NowNs());
  throw FIX::RejectLogon(reason);
}

void Server::Impl::OnUnknownSession(const std::string& raw) {
  std::string sender;
  std::string target;
  try {
    const FIX::Message message(raw, false);
    const FIX::Header& header = message.getHeader();
    if (header.isSetField(49)) sender = header.getField(49);
    if (header.isSetField(56)) target = header.getField(56);
  } catch (const std::exception&) {
    // Not even a parsable header: counted all the same.
  }
  // Free text from the network: kept short, and printable ASCII, in the
  // log and the audit (whose JSON needs valid UTF-8).
  auto shown = [](std::string* text) {
    constexpr std::size_t kMaxShown = 64;
    if (text->size() > kMaxShown) text->resize(kMaxShown);
    for (char& c : *text) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
  };
  shown(&sender);
  shown(&target);
  FIX::Acceptor* acceptor = started_acceptor_.load();
  const std::string address =
      acceptor == nullptr ? ""
                          : PeerAddressOfThisThread(*acceptor, acceptor_kind_);
  spdlog::warn("connection from {} dropped: no session {} -> {}",
               address.empty() ? "?" : address, sender, target);
  // Counted against the address only: an unknown CompID must not grow the
  // throttle's CompID table.
  throttle_.RecordFailure("", address, std::chrono::steady_clock::now());
  logon_records_.Add(sender, address, ledger::LogonOutcome::kRefused,
                     "unknown session", NowNs());
}

void Server::Impl::HandleLogon(const FIX::Message& message,
                               const FIX::SessionID& id) {
  if (message.getHeader().getField(35) != "A") return;
  SessionSlot* slot = SlotFor(id);
  if (slot == nullptr) throw FIX::RejectLogon("unknown CompID");
  const std::string& sender = id.getTargetCompID().getValue();
  const std::string address = PeerAddressOf(id, acceptor_kind_);
  if (!accepting_) {
    RefuseLogon(sender, address, "exchange is shutting down", false);
  }
  // A CompID or address in its back-off is refused before anything about
  // the Logon is checked, the password least of all.
  if (std::optional<std::string> refusal = throttle_.Refusal(
          sender, address, std::chrono::steady_clock::now())) {
    spdlog::warn("logon of {} from {} throttled: {}", sender,
                 address.empty() ? "?" : address, *refusal);
    logon_records_.Add(sender, address, ledger::LogonOutcome::kThrottled,
                       *refusal, NowNs());
    throw FIX::RejectLogon(*refusal);
  }
  if (!message.isSetField(553) || message.getField(553) != sender) {
    RefuseLogon(sender, address, "Username(553) must equal SenderCompID", true);
  }
  if (!message.isSetField(554)) {
    RefuseLogon(sender, address, "Password(554) is required", true);
  }
  const std::string& password = message.getField(554);
  // The digest of the last verified password (keyed with a per-process
  // random key, so it is no offline-crackable hash) spares a reconnecting
  // broker the slow check.
  std::array<unsigned char, 32> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(password.data()),
                     password.size(), digest_key_.data(), digest_key_.size());
  bool cached = false;
  {
    std::lock_guard<std::mutex> guard(slot->auth_mu);
    cached = slot->verified && *slot->verified == digest;
  }
  if (!cached) {
    if (!verify_slots_.try_acquire_for(std::chrono::seconds(5))) {
      RefuseLogon(sender, address, "logon service busy; retry later", false);
    }
    Result<bool> ok = registry_->VerifyBrokerPassword(sender, password);
    verify_slots_.release();
    if (!ok.ok()) {
      spdlog::error("logon of {}: password check failed: {}", sender,
                    ok.status().message());
      RefuseLogon(sender, address, "password check unavailable", false);
    }
    if (!*ok) {
      RefuseLogon(sender, address, "invalid password", true);
    }
    std::lock_guard<std::mutex> guard(slot->auth_mu);
    slot->verified = digest;
  }
  throttle_.RecordSuccess(sender);
}

void Server::Impl::fromApp(
    const FIX::Message& message,
    const FIX::SessionID& id) throw(FIX::FieldNotFound,
                                    FIX::IncorrectDataFormat,
                                    FIX::IncorrectTagValue,
                                    FIX::UnsupportedMessageType) {
  try {
    HandleApp(message, id);
  } catch (const FIX::UnsupportedMessageType&) {
    throw;
  } catch (const FIX::FieldNotFound&) {
    throw;
  } catch (const FIX::IncorrectDataFormat&) {
    throw;
  } catch (const FIX::IncorrectTagValue&) {
    throw;
  } catch (const std::exception& e) {
    spdlog::error("message handling failed: {}", e.what());
  }
}

void Server::Impl::HandleApp(const FIX::Message& message,
                             const FIX::SessionID& id) {
  SessionSlot* slot = SlotFor(id);
  if (slot == nullptr) return;
  if (!WithinRate(slot, message, id)) return;
  const std::string& type = message.getHeader().getField(35);
  std::shared_ptr<const NameTables> tables = tables_.load();
  Timestamp now(NowNs());
  auto send = [&](FIX::Message& reply) {
    try {
      FIX::Session::sendToTarget(reply, id);
    } catch (const FIX::SessionNotFound&) {
    }
  };
  if ((type == "D" || type == "G") && settlement_stalled_.load()) {
    // Nothing new may trade while the registry cannot record trades;
    // cancels, status requests and mass cancels still work.
    FIX::Message refusal = RefusalFor(
        message,
        "settlement stalled: the registry cannot record trades; new orders "
        "and replaces are refused",
        exec_ids_, now);
    send(refusal);
    return;
  }
  Translation t;
  if (type == "D") {
    t = TranslateNewOrder(message, *tables, exec_ids_, now);
  } else if (type == "F") {
    t = TranslateCancel(message, *tables, now);
  } else if (type == "G") {
    t = TranslateReplace(message, *tables, now);
  } else if (type == "H") {
    t = TranslateStatusRequest(message, *tables, exec_ids_, now);
  } else if (type == "q") {
    t = TranslateMassCancel(message, *tables, now);
  } else if (type == "V") {
    MarketDataTranslation md = TranslateMarketDataRequest(message, *tables);
    if (md.reply) {
      send(*md.reply);
      return;
    }
    auto item = new Inbound;
    item->kind = Inbound::Kind::kMarketData;
    item->broker = slot->broker;
    item->md =
        std::make_shared<const MarketDataRequest>(std::move(*md.request));
    Push(item);
    return;
  } else if (type == "x") {
    FIX::Message list = SecurityListFor(message, *tables);
    send(list);
    return;
  } else {
    throw FIX::UnsupportedMessageType();
  }
  if (t.reply) {
    send(*t.reply);
    return;
  }
  if (!accepting_) {
    // Shutting down: the session is being logged out; nothing new enters.
    return;
  }
  auto item = new Inbound;
  item->broker = slot->broker;
  item->body = *t.command;
  Push(item);
}

void Server::Impl::Admit(SessionSlot* slot, const FIX::SessionID& id) {
  std::unique_lock<std::mutex> guard(sessions_mu_);
  if (slot->admitted) return;
  if (admitted_sessions_ >= options_.config.max_sessions) {
    guard.unlock();
    RefuseLogon(slot->comp_id, PeerAddressOf(id, acceptor_kind_),
                "maximum number of sessions reached (" +
                    std::to_string(options_.config.max_sessions) + ")",
                false);
  }
  slot->admitted = true;
  ++admitted_sessions_;
}

bool Server::Impl::WithinRate(SessionSlot* slot, const FIX::Message& message,
                              const FIX::SessionID& id) {
  if (slot->throttled.load()) return false;
  const std::uint32_t limit = options_.config.max_messages_per_second;
  if (limit == 0) return true;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count();
  {
    std::lock_guard<std::mutex> guard(slot->rate_mu);
    if (now - slot->rate_window_ns >= 1'000'000'000) {
      slot->rate_window_ns = now;
      slot->rate_count = 0;
    }
    if (++slot->rate_count <= limit) return true;
  }
  if (slot->throttled.exchange(true)) return false;
  spdlog::warn(
      "session {}: more than {} messages in one second "
      "(max_messages_per_second); rejecting and logging it out",
      slot->comp_id, limit);
  FIX::Message reject;
  reject.getHeader().setField(35, "j");
  const FIX::Header& header = message.getHeader();
  if (header.isSetField(34)) reject.setField(45, header.getField(34));
  reject.setField(372, header.getField(35));
  if (message.isSetField(11)) reject.setField(379, message.getField(11));
  reject.setField(380, "0");
  reject.setField(58, "message rate over " + std::to_string(limit) +
                          " per second: logging out");
  try {
    FIX::Session::sendToTarget(reject, id);
  } catch (const FIX::SessionNotFound&) {
  }
  if (FIX::Session* session = FIX::Session::lookupSession(id)) {
    session->logout("message rate over limit");
  }
  return false;
}

// ---------------------------------------------------------------------------
// Sequencer

void Server::Impl::SpinForCommand(std::vector<Inbound*>& batch) {
  // A sleeping sequencer costs the next command a futex wake-up in the
  // session thread that pushes it and a scheduler wake-up here (tens of
  // microseconds on a virtual machine): keep looking for a while first.
  // The clock is read once every 64 looks.
  const auto spin =
      std::chrono::microseconds(options_.config.sequencer_spin_us);
  const auto until = std::chrono::steady_clock::now() + spin;
  Inbound* item = nullptr;
  for (std::uint32_t looks = 1;; ++looks) {
    if (inbound_.pop(item)) {
      batch.push_back(item);
      return;
    }
    if (looks % 64 == 0 && std::chrono::steady_clock::now() >= until) return;
  }
}

void Server::Impl::SequencerLoop() {
  std::vector<Inbound*> batch;
  batch.reserve(options_.config.max_batch);
  while (true) {
    batch.clear();
    Inbound* item = nullptr;
    while (batch.size() < options_.config.max_batch && inbound_.pop(item)) {
      batch.push_back(item);
    }
    if (batch.empty()) SpinForCommand(batch);
    if (batch.empty()) {
      if (stop_sequencer_) break;
      // A session over its outbound limit gets the rest of its messages
      // (and its next logon) as its sender catches up, orders or not: with
      // such a backlog the sequencer looks again every few milliseconds.
      const bool backlog = HasBacklog();
      static constexpr timespec kBacklogPoll{0, 5'000'000};
      sequencer_waker_.Wait(
          [&] {
            if (inbound_.pop(item)) {
              batch.push_back(item);
              return true;
            }
            return stop_sequencer_.load();
          },
          backlog ? &kBacklogPoll : nullptr);
      if (batch.empty()) {
        if (backlog) DrainOverflow();
        continue;
      }
    }
    ProcessBatch(batch);
    for (Inbound* done : batch) delete done;
  }
  PushRegistryBatch();
  while (!writer_backlog_.empty()) {
    if (writer_queue_.push(writer_backlog_.front())) {
      writer_backlog_.pop_front();
    } else {
      writer_waker_.Notify();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  writer_waker_.Notify();
  // Everything left for slow sessions goes to their senders before they stop.
  for (auto& [id, slot] : slots_) {
    while (!slot->overflow.empty()) {
      if (slot->queue.push(slot->overflow.front())) {
        slot->overflow.pop_front();
        ++slot->handed;
      } else {
        slot->waker.Notify();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    slot->waker.Notify();
  }
}

void Server::Impl::Fail(const Status& status) {
  if (failed_.exchange(true)) return;
  spdlog::critical("journal failure: {}; the exchange stops accepting orders",
                   status.message());
  accepting_ = false;
  ::kill(::getpid(), SIGTERM);
}

void Server::Impl::ExecuteStamped(const engine::CommandBody& body,
                                  BrokerId broker) {
  if (failed_) return;
  std::int64_t now = NowNs();
  if (now <= last_time_ns_) now = last_time_ns_ + 1;
  engine::Command command{
      {SequenceNumber(last_seq_ + 1), Timestamp(now), broker}, body};
  Status appended = journal_->Append(command);
  if (!appended.ok()) {
    Fail(appended);
    return;
  }
  last_seq_ += 1;
  last_time_ns_ = now;
  uncommitted_ = true;
  engine_->Execute(command);
}

void Server::Impl::ProcessBatch(const std::vector<Inbound*>& batch) {
  for (Inbound* item : batch) {
    switch (item->kind) {
      case Inbound::Kind::kCommand:
        ExecuteStamped(item->body, item->broker);
        break;
      case Inbound::Kind::kMarketData: {
        DispatchMark mark;
        mark.event_pos = sink_.events.size();
        mark.item = item;
        std::shared_ptr<const NameTables> tables = tables_.load();
        if (item->md->subscription != '2') {
          for (const std::string& symbol : item->md->symbols) {
            const InstrumentState* instrument = tables->FindInstrument(symbol);
            mark.depths.push_back(
                instrument == nullptr
                    ? engine::DepthSnapshot{}
                    : engine_->Depth(
                          instrument->id,
                          item->md->depth == 0
                              ? std::numeric_limits<std::size_t>::max()
                              : item->md->depth));
          }
        }
        marks_.push_back(std::move(mark));
        break;
      }
      case Inbound::Kind::kSessionDown: {
        DispatchMark mark;
        mark.event_pos = sink_.events.size();
        mark.item = item;
        marks_.push_back(std::move(mark));
        break;
      }
      case Inbound::Kind::kCloseDay: {
        std::size_t before = sink_.events.size();
        ExecuteStamped(engine::ExpireDayOrders{}, engine::kOperatorBroker);
        last_close_ns_ = last_time_ns_;
        close_pending_ = false;
        DispatchMark mark;
        mark.event_pos = sink_.events.size();
        mark.item = item;
        for (std::size_t i = before; i < sink_.events.size(); ++i) {
          mark.expired +=
              std::holds_alternative<engine::OrderExpired>(sink_.events[i].body)
                  ? 1
                  : 0;
        }
        spdlog::info("trading day closed: {} Day orders expired", mark.expired);
        marks_.push_back(std::move(mark));
        break;
      }
      case Inbound::Kind::kOperator:
        CommitAndDispatch();
        RunOperator(item);
        break;
    }
  }
  CommitAndDispatch();
}

void Server::Impl::Enqueue(SessionSlot* slot, Outbound&& out,
                           const NameTables& tables) {
  if (!SendDirect(slot, out, tables)) {
    HandOver(slot, new Outbound(std::move(out)));
  }
}

bool Server::Impl::SendDirect(SessionSlot* slot, Outbound& out,
                              const NameTables& tables) {
  // Only while the sender has nothing in hand (it would write after this
  // message what was meant for before it), to a logged-on broker found
  // reading, over a plain socket the responder writes itself.
  if (!slot->overflow.empty() || slot->finished.load() != slot->handed ||
      !slot->logged_on.load() || slot->muted.load() ||
      !slot->responder.direct() || slot->responder.stalled()) {
    return false;
  }
  if (slot->session == nullptr) {
    slot->session = FIX::Session::lookupSession(slot->session_id);
    if (slot->session == nullptr) return false;
  }
  // A report to its broker is written straight into its wire form; other
  // messages are built as FIX::Message.
  const char* msg_type = nullptr;
  std::optional<FIX::Message> message;
  if (out.kind == Outbound::Kind::kEvent) {
    report_body_.Clear();
    msg_type = WriteBrokerMessage(out.event, out.index, tables, &report_body_);
    if (msg_type == nullptr) return true;
  } else {
    message = MessageFor(out, tables);
    if (!message) return true;
  }
  // Deferred: appended to the responder's buffer (past its byte limit, what
  // the socket takes at once is written), never a blocking write.
  BatchingResponder::DeferOnThisThread(true);
  try {
    if (msg_type != nullptr) {
      (void)SendSerialized(*slot->session, msg_type, report_body_.body(),
                           &report_wire_);
    } else {
      (void)slot->session->send(*message);
    }
  } catch (const std::exception& e) {
    spdlog::warn("session {}: message not sent: {}", slot->comp_id, e.what());
  }
  BatchingResponder::DeferOnThisThread(false);
  if (!slot->deferred) {
    slot->deferred = true;
    deferred_slots_.push_back(slot);
  }
  // The socket is full: the sender writes the rest, and everything after it.
  if (slot->responder.stalled())
    HandOver(slot, new Outbound{.kind = Outbound::Kind::kFlush});
  return true;
}

void Server::Impl::FlushDirect() {
  for (SessionSlot* slot : deferred_slots_) {
    slot->deferred = false;
    if (slot->finished.load() != slot->handed) continue;  // a kFlush is out
    if (slot->responder.FlushWithoutBlocking() ==
        BatchingResponder::Flushed::kPartly) {
      HandOver(slot, new Outbound{.kind = Outbound::Kind::kFlush});
    }
  }
  deferred_slots_.clear();
}

void Server::Impl::HandOver(SessionSlot* slot, Outbound* out) {
  if (slot->overflow.empty() && slot->queue.push(out)) {
    ++slot->handed;
    slot->waker.Notify();
    return;
  }
  slot->overflow.push_back(out);
  if (!slot->over_limit) {
    slot->over_limit = true;
    spdlog::warn(
        "session {}: outbound queue over its limit of {} messages (the broker "
        "is not reading); disconnecting it",
        slot->comp_id, options_.config.outbound_queue_limit);
    slot->logon_blocked = true;
    if (FIX::Session* session = FIX::Session::lookupSession(slot->session_id)) {
      session->logout("outbound queue over limit: slow reader");
    }
    slot->muted = true;
  }
  slot->waker.Notify();
}

bool Server::Impl::HasBacklog() const {
  return std::any_of(slots_.begin(), slots_.end(), [](const auto& entry) {
    return !entry.second->overflow.empty() ||
           entry.second->logon_blocked.load();
  });
}

void Server::Impl::DrainOverflow() {
  for (auto& [id, slot] : slots_) {
    const std::uint64_t before = slot->handed;
    while (!slot->overflow.empty() &&
           slot->queue.push(slot->overflow.front())) {
      slot->overflow.pop_front();
      ++slot->handed;
    }
    if (slot->handed != before) slot->waker.Notify();
    if (!slot->overflow.empty()) continue;
    if (!slot->logon_blocked.load()) {
      slot->over_limit = false;
      continue;
    }
    // Its next logon is accepted once the connection is gone and the sender
    // has put everything queued for it in the session's store. (Until then
    // over_limit stays set: more overflow is no news.)
    FIX::Session* session = FIX::Session::lookupSession(slot->session_id);
    if (session == nullptr) continue;
    if (session->isLoggedOn() || slot->finished.load() != slot->handed) {
      continue;
    }
    slot->over_limit = false;
    slot->logon_blocked = false;
    session->logon();
  }
}

void Server::Impl::CommitAndDispatch() {
  if (uncommitted_) {
    Status committed = journal_->Commit();
    if (!committed.ok()) {
      Fail(committed);
      return;
    }
    uncommitted_ = false;
  }
  std::shared_ptr<const NameTables> tables = tables_.load();
  std::size_t next_mark = 0;
  std::uint64_t current_seq = 0;
  std::uint32_t index = 0;
  auto run_mark = [&](DispatchMark& mark) {
    Inbound* item = mark.item;
    SessionSlot* slot = SlotFor(item->broker);
    if (item->kind == Inbound::Kind::kMarketData && slot != nullptr) {
      if (item->md->subscription == '2') {
        auto& subs = slot->subscriptions;
        subs.erase(std::remove_if(subs.begin(), subs.end(),
                                  [&](const auto& s) {
                                    return s->md_req_id == item->md->md_req_id;
                                  }),
                   subs.end());
        return;
      }
      for (std::size_t i = 0; i < item->md->symbols.size(); ++i) {
        Outbound out;
        out.kind = Outbound::Kind::kSnapshot;
        out.md = item->md;
        out.symbol = item->md->symbols[i];
        out.depth = mark.depths[i];
        Enqueue(slot, std::move(out), *tables);
      }
      if (item->md->subscription == '1')
        slot->subscriptions.push_back(item->md);
    } else if (item->kind == Inbound::Kind::kSessionDown && slot != nullptr) {
      slot->subscriptions.clear();
    } else if (item->kind == Inbound::Kind::kCloseDay && item->reply) {
      nlohmann::json result = {{"expired_orders", mark.expired},
                               {"seq", last_seq_}};
      item->reply->set_value(ledger::ControlOkResponse(result.dump()));
      item->reply.reset();
    }
  };
  for (std::size_t pos = 0; pos < sink_.events.size(); ++pos) {
    while (next_mark < marks_.size() && marks_[next_mark].event_pos <= pos) {
      run_mark(marks_[next_mark++]);
    }
    const engine::Event& event = sink_.events[pos];
    if (event.header.seq.value() != current_seq) {
      current_seq = event.header.seq.value();
      index = 0;
    } else {
      ++index;
    }
    std::visit(
        [&](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, engine::OrderAccepted> ||
                        std::is_same_v<T, engine::OrderFilled> ||
                        std::is_same_v<T, engine::OrderCanceled> ||
                        std::is_same_v<T, engine::OrderExpired> ||
                        std::is_same_v<T, engine::OrderReplaced>) {
            touched_.emplace(body.order.account.value(),
                             body.order.instrument.value());
          } else if constexpr (std::is_same_v<T, engine::TradeExecuted>) {
            touched_.emplace(body.buyer.value(), body.instrument.value());
            touched_.emplace(body.seller.value(), body.instrument.value());
            pending_.trades.push_back(ledger::TradeRecord{
                body.trade_id, body.instrument, body.price, body.qty,
                body.buyer, body.seller, body.buy_order, body.sell_order,
                event.header.time});
          } else if constexpr (std::is_same_v<
                                   T, engine::OperatorCommandRejected>) {
            spdlog::warn("operator command seq {} rejected by the engine: {}",
                         event.header.seq.value(), RejectText(body.reason));
          }
        },
        event.body);
    if (std::optional<BrokerId> broker = RecipientOf(event)) {
      const auto* mass = std::get_if<engine::MassCancelCompleted>(&event.body);
      bool silent = mass != nullptr && mass->request.day_orders_only;
      SessionSlot* slot = SlotFor(*broker);
      if (slot != nullptr && !silent) {
        Outbound out;
        out.event = event;
        out.index = index;
        Enqueue(slot, std::move(out), *tables);
      }
    }
    if (const auto* level =
            std::get_if<engine::BookLevelChanged>(&event.body)) {
      DispatchLevel(event, *level, *tables);
    } else if (const auto* trade =
                   std::get_if<engine::TradeExecuted>(&event.body)) {
      const std::string_view symbol = tables->Symbol(trade->instrument);
      for (auto& [id, slot] : slots_) {
        for (const auto& sub : slot->subscriptions) {
          if (std::find(sub->symbols.begin(), sub->symbols.end(), symbol) ==
              sub->symbols.end()) {
            continue;
          }
          Outbound out;
          out.kind = Outbound::Kind::kIncrement;
          out.event = event;
          out.action = '0';
          out.md = sub;
          Enqueue(slot.get(), std::move(out), *tables);
        }
      }
    }
  }
  while (next_mark < marks_.size()) run_mark(marks_[next_mark++]);
  marks_.clear();
  sink_.events.clear();
  FlushDirect();
  PushRegistryBatch();
  DrainOverflow();
  published_seq_ = last_seq_;
}

void Server::Impl::SeedLevels() {
  levels_.clear();
  for (const InstrumentState& instrument : tables_.load()->instruments()) {
    const engine::DepthSnapshot depth =
        engine_->Depth(instrument.id, std::numeric_limits<std::size_t>::max());
    for (const auto& [side, book] : {std::pair{Side::kBuy, &depth.bids},
                                     std::pair{Side::kSell, &depth.asks}}) {
      for (const engine::LevelView& level : *book) {
        levels_[{instrument.id.value(), static_cast<std::uint8_t>(side),
                 level.price.value()}] = {level.total_qty.value(),
                                          level.order_count};
      }
    }
  }
}

void Server::Impl::DispatchLevel(const engine::Event& event,
                                 const engine::BookLevelChanged& level,
                                 const NameTables& tables) {
  const std::uint32_t instrument = level.instrument.value();
  const auto side = static_cast<std::uint8_t>(level.side);
  const LevelKey key{instrument, side, level.price.value()};
  const auto found = levels_.find(key);
  const bool existed = found != levels_.end();
  if (level.order_count == 0) {
    if (existed) levels_.erase(found);
  } else if (existed) {
    found->second = {level.total_qty.value(), level.order_count};
  } else {
    levels_.emplace(key, std::pair{level.total_qty.value(), level.order_count});
  }
  // Only for a subscription limited to the best N levels (none on the common
  // path): the side's levels, best first, and how many are better than this
  // one (the same before and after: only this level changed).
  const bool bid = level.side == Side::kBuy;
  const auto first = [&] {
    return levels_.lower_bound(
        {instrument, side, std::numeric_limits<std::int64_t>::min()});
  };
  const auto last = [&] {
    return levels_.upper_bound(
        {instrument, side, std::numeric_limits<std::int64_t>::max()});
  };
  const auto rank = [&] {
    return static_cast<std::size_t>(
        bid ? std::distance(levels_.upper_bound(key), last())
            : std::distance(first(), levels_.lower_bound(key)));
  };
  // The level at `index` (0 = best) of the side, if there is one.
  const auto nth = [&](std::size_t index)
      -> std::optional<
          std::pair<const LevelKey, std::pair<std::int64_t, std::uint32_t>>> {
    const auto begin = first();
    const auto end = last();
    if (index >= static_cast<std::size_t>(std::distance(begin, end))) {
      return std::nullopt;
    }
    return *(bid ? std::prev(end, static_cast<std::ptrdiff_t>(index) + 1)
                 : std::next(begin, static_cast<std::ptrdiff_t>(index)));
  };
  const auto level_event = [&](const LevelKey& at, std::int64_t qty,
                               std::uint32_t orders) {
    engine::Event made;
    made.header = event.header;
    made.body =
        engine::BookLevelChanged{level.instrument, level.side,
                                 Price(std::get<2>(at)), Quantity(qty), orders};
    return made;
  };
  const std::string_view symbol = tables.Symbol(level.instrument);
  for (auto& entry : slots_) {
    SessionSlot* slot = entry.second.get();
    for (const auto& sub : slot->subscriptions) {
      if (std::find(sub->symbols.begin(), sub->symbols.end(), symbol) ==
          sub->symbols.end()) {
        continue;
      }
      const auto send = [&](const engine::Event& body, char action) {
        Outbound out;
        out.kind = Outbound::Kind::kIncrement;
        out.event = body;
        out.action = action;
        out.md = sub;
        Enqueue(slot, std::move(out), tables);
      };
      const std::size_t depth = sub->depth;
      if (depth == 0) {
        send(event, existed ? '1' : '0');
        continue;
      }
      // A subscription to the best `depth` levels sees the levels that
      // enter or leave them, not the ones below.
      if (rank() >= depth) continue;
      if (level.order_count == 0) {
        send(event, '2');
        // The level below the window moved up into it.
        if (auto entered = nth(depth - 1)) {
          send(level_event(entered->first, entered->second.first,
                           entered->second.second),
               '0');
        }
      } else if (!existed) {
        send(event, '0');
        // The window's last level was pushed out of it.
        if (auto left = nth(depth)) send(level_event(left->first, 0, 0), '2');
      } else {
        send(event, '1');
      }
    }
  }
}

void Server::Impl::PushRegistryBatch() {
  if (!touched_.empty() || !pending_.trades.empty()) {
    std::set<std::uint32_t> accounts;
    for (const auto& [account, instrument] : touched_) {
      known_.positions.emplace(account, instrument);
      accounts.insert(account);
      pending_.reservations.push_back(ledger::ReservationUpdate{
          AccountId(account), InstrumentId(instrument),
          engine_->Position(AccountId(account), InstrumentId(instrument))
              .reserved,
          Cash(0)});
    }
    for (std::uint32_t account : accounts) {
      pending_.reservations.push_back(ledger::ReservationUpdate{
          AccountId(account), std::nullopt, Quantity(0),
          engine_->CashOf(AccountId(account)).reserved});
    }
    touched_.clear();
    pending_.journal_position = last_seq_;
    writer_backlog_.push_back(new ledger::ServerBatch(std::move(pending_)));
    pending_ = ledger::ServerBatch{};
    writer_pushed_.fetch_add(1);
  }
  while (!writer_backlog_.empty() &&
         writer_queue_.push(writer_backlog_.front())) {
    writer_backlog_.pop_front();
  }
  writer_waker_.Notify();
}

bool Server::Impl::FlushRegistryWriter() {
  PushRegistryBatch();
  while (writer_applied_.load() < writer_pushed_.load()) {
    if (settlement_stalled_.load()) return false;
    while (!writer_backlog_.empty() &&
           writer_queue_.push(writer_backlog_.front())) {
      writer_backlog_.pop_front();
    }
    writer_waker_.Notify();
    writer_hurry_ = true;
    writer_pause_.Notify();
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

void Server::Impl::RunOperator(Inbound* item) {
  if (failed_) {
    // The journal cannot record the engine commands a registry write needs.
    if (item->reply) {
      item->reply->set_value(ledger::ControlErrorResponse(
          "the journal cannot be written: the exchange is stopping"));
    }
    item->reply.reset();
    return;
  }
  if (!FlushRegistryWriter()) {
    // The registry is behind the engine: a write now could contradict
    // trades it has not recorded.
    if (item->reply) {
      item->reply->set_value(ledger::ControlErrorResponse(
          "settlement stalled: the registry cannot record trades; operator "
          "writes are refused until it can (see the server log)"));
    }
    item->reply.reset();
    return;
  }
  std::string response = ledger::ExecuteControlRequest(*registry_, item->line);
  bool ok = false;
  try {
    ok = nlohmann::json::parse(response).value("ok", false);
  } catch (const std::exception&) {
    ok = false;
  }
  if (ok) {
    Result<AccountState> state = registry_->LoadAccountState();
    if (!state.ok()) {
      spdlog::error("after operator write: {}", state.status().message());
    } else {
      std::vector<engine::CommandBody> commands =
          ReconcileCommands(*state, *engine_, &known_);
      for (const engine::CommandBody& body : commands) {
        ExecuteStamped(body, engine::kOperatorBroker);
      }
      std::shared_ptr<const NameTables> old_tables = tables_.load();
      auto fresh = std::make_shared<const NameTables>(*state);
      for (const BrokerEntry& broker : fresh->brokers()) {
        if (old_tables->FindBroker(broker.comp_id) == nullptr) {
          spdlog::warn(
              "broker {} registered while running: it can log on "
              "after the server restarts",
              broker.comp_id);
        }
      }
      tables_.store(fresh);
      CommitAndDispatch();
      spdlog::info("operator write applied in sequence: {} engine commands",
                   commands.size());
    }
  }
  if (item->reply) item->reply->set_value(response);
  item->reply.reset();
}

// ---------------------------------------------------------------------------
// Senders, registry writer, clock, control socket

void Server::Impl::SenderLoop(SessionSlot* slot) {
  // The acceptor's Session object lives as long as the acceptor (longer
  // than this thread): look it up once, not per message.
  FIX::Session* session = nullptr;
  // A write fails while logged on when the socket stayed full for
  // send_timeout_seconds: the broker is not reading. The message is in
  // the session's store (resent after its next logon).
  // The session's own thread sends the Logout and ends the connection
  // when the Logout times out: no other thread touches the connection
  // (QuickFIX's connection thread may delete it at any time).
  auto on_write = [&](bool written) {
    const bool failed = !written || slot->responder.write_failed();
    // Stopping: its writes gave up at the stop's deadline; the rest of its
    // messages only go to its store.
    if (failed && !accepting_) slot->muted = true;
    if (failed && session->isLoggedOn() && !slot->muted.exchange(true)) {
      spdlog::warn(
          "session {}: send blocked for {} s (the broker is not reading); "
          "disconnecting it",
          slot->comp_id, options_.config.send_timeout_seconds);
      // Blocked only once the session is disabled: the sequencer, which
      // enables it again, must not do so before this logout.
      session->logout("send blocked: slow reader");
      slot->logon_blocked = true;
      sequencer_waker_.Notify();  // it re-admits the session later
    }
  };
  // hold: more messages follow at once; the session's BatchingResponder
  // keeps this one for the same socket write as the next.
  auto send = [&](FIX::Message& message, bool hold) {
    try {
      if (session == nullptr) {
        session = FIX::Session::lookupSession(slot->session_id);
      }
      BatchingResponder::DiscardOnThisThread(slot->muted.load());
      BatchingResponder::HoldOnThisThread(hold);
      // FIX::Session reports success for an application message whatever
      // its write did, so on_write asks the responder.
      if (session != nullptr) on_write(session->send(message));
    } catch (const std::exception& e) {
      spdlog::warn("session {}: message not sent: {}", slot->comp_id, e.what());
    }
    slot->finished.fetch_add(1);
    BatchingResponder::HoldOnThisThread(false);
    BatchingResponder::DiscardOnThisThread(false);
  };
  // What the sequencer's own writes left in the responder (the socket was
  // full): written here, where blocking is allowed.
  auto flush = [&] {
    if (session == nullptr) {
      session = FIX::Session::lookupSession(slot->session_id);
    }
    if (session != nullptr && !slot->muted.load()) {
      on_write(slot->responder.Flush());
    }
    slot->finished.fetch_add(1);
  };
  // Each message is sent once the next one is built (held) or the queue is
  // found empty (written with everything held before it): the last message
  // of a run is never left held.
  std::optional<FIX::Message> pending;
  while (true) {
    // A broker found not reading has been told to log out. Its messages wait
    // until its connection is gone and then only go to the session's store:
    // sending meanwhile would keep refreshing the session's last-sent time,
    // and with it the Logout's timeout, which is what ends the connection.
    if (slot->muted.load() && !stop_senders_.load()) {
      if (session == nullptr) {
        session = FIX::Session::lookupSession(slot->session_id);
      }
      if (session != nullptr && session->isLoggedOn()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
    }
    Outbound* out = nullptr;
    if (!slot->queue.pop(out)) {
      if (pending) {
        send(*pending, false);
        pending.reset();
        continue;
      }
      if (stop_senders_) break;
      slot->waker.Wait([&] {
        return slot->queue.read_available() > 0 || stop_senders_.load();
      });
      continue;
    }
    if (out->kind == Outbound::Kind::kFlush) {
      delete out;
      if (pending) {
        send(*pending, false);
        pending.reset();
      }
      flush();
      continue;
    }
    std::shared_ptr<const NameTables> tables = tables_.load();
    std::optional<FIX::Message> message = MessageFor(*out, *tables);
    delete out;
    if (!message) {
      slot->finished.fetch_add(1);
      continue;
    }
    if (pending) send(*pending, true);
    pending = std::move(message);
  }
}

void Server::Impl::WriterLoop() {
  while (true) {
    ledger::ServerBatch merged;
    std::map<std::pair<std::uint32_t, std::int64_t>, ledger::ReservationUpdate>
        reservations;
    std::uint64_t count = 0;
    ledger::ServerBatch* batch = nullptr;
    while (count < 256 && writer_queue_.pop(batch)) {
      ++count;
      merged.trades.insert(merged.trades.end(), batch->trades.begin(),
                           batch->trades.end());
      for (const auto& r : batch->reservations) {
        std::int64_t key = r.instrument ? r.instrument->value() : -1;
        reservations[{r.account.value(), key}] = r;
      }
      merged.journal_position = batch->journal_position;
      delete batch;
    }
    if (count == 0) {
      if (stop_writer_ && writer_applied_.load() >= writer_pushed_.load())
        break;
      // Sleep until the sequencer hands over a batch (or the stop).
      writer_waker_.Wait([&] {
        return writer_queue_.read_available() > 0 || stop_writer_.load();
      });
      continue;
    }
    for (auto& [key, r] : reservations) merged.reservations.push_back(r);
    // Batches settle strictly in journal order: a refused batch is retried
    // and nothing after it is applied, because a later batch would record a
    // journal position past trades the registry has not seen. If it is still
    // refused when the server stops, no snapshot is written, so the next
    // start replays the journal and settles those trades then.
    Status applied =
        unsettled_ ? Status::Ok() : registry_->ApplyServerBatch(merged);
    if (!applied.ok() && !settlement_stalled_.exchange(true)) {
      spdlog::error(
          "settlement stalled: {}; new orders and replaces are refused until "
          "it succeeds",
          applied.message());
    }
    while (!applied.ok()) {
      spdlog::error(
          "settlement of {} trades up to seq {} refused: {} (retrying; "
          "nothing later settles until it succeeds)",
          merged.trades.size(), merged.journal_position, applied.message());
      // Once the server is stopping, give up at once: the sequencer's last
      // batches must not wait on a full disk (the writer then skips the
      // rest, which the next start settles from the journal).
      if (stop_writer_ || stop_sequencer_) {
        unsettled_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      applied = registry_->ApplyServerBatch(merged);
    }
    if (applied.ok() && !unsettled_ && settlement_stalled_.exchange(false)) {
      spdlog::info("settlement resumed: new orders are accepted again");
    }
    writer_applied_.fetch_add(count);
    // Let settlements gather: at most about one registry commit per 10 ms
    // instead of one per sequencer batch. Every commit rewrites the B-tree
    // pages it touches and, in durable mode, syncs them, competing with the
    // journal's own sync that acknowledgements wait for; no acknowledgement
    // waits for the registry. An operator write, which must see everything
    // settled first, cuts the pause short.
    if (!stop_writer_ && !writer_hurry_.exchange(false)) {
      writer_pause_.Wait(
          [&] { return writer_hurry_.load() || stop_writer_.load(); },
          &kSettlementGather);
    }
  }
}

void Server::Impl::ClockLoop() {
  // Created once the acceptor runs (it starts after this thread).
  std::optional<UnidentifiedConnectionReaper> reaper;
  for (int tick = 0; !stop_aux_; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!reaper) {
      if (FIX::Acceptor* acceptor = started_acceptor_.load()) {
        reaper.emplace(
            *acceptor, acceptor_kind_,
            std::chrono::seconds(options_.config.logon_timeout_seconds));
      }
    }
    if (tick % 5 == 0 && accepting_ && reaper) {
      for (const std::string& peer :
           reaper->Sweep(std::chrono::steady_clock::now())) {
        spdlog::warn(
            "connection from {} closed: no Logon within {} s "
            "(logon_timeout_seconds)",
            peer, options_.config.logon_timeout_seconds);
      }
    }
    if (!options_.config.close_minute_utc || close_pending_) continue;
    std::int64_t due =
        LastScheduledClose(NowNs(), *options_.config.close_minute_utc);
    if (last_close_ns_.load() < due) {
      close_pending_ = true;
      auto item = new Inbound;
      item->kind = Inbound::Kind::kCloseDay;
      Push(item);
    }
  }
}

void Server::Impl::FlushLogonRecords() {
  LogonRecorder::Batch batch = logon_records_.Take();
  if (batch.empty()) {
    return;
  }
  Status recorded = registry_->RecordLogonEvents(batch.events, batch.dropped);
  if (!recorded.ok()) {
    spdlog::error("{} logon records not written to the audit log: {}",
                  batch.events.size(), recorded.message());
  }
}

// Logon events reach the audit log in one registry write per interval, off
// the session threads and the sequencer: a logon storm costs one audit entry
// (of at most 256 merged records) per interval.
void Server::Impl::AuditLoop() {
  const auto interval =
      std::chrono::milliseconds(options_.config.logon_audit_interval_ms);
  auto next = std::chrono::steady_clock::now() + interval;
  while (!stop_audit_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(
        std::min(50, options_.config.logon_audit_interval_ms)));
    if (std::chrono::steady_clock::now() < next) {
      continue;
    }
    FlushLogonRecords();
    next = std::chrono::steady_clock::now() + interval;
  }
  FlushLogonRecords();
}

void Server::Impl::ServeControlClient(int fd) {
  std::string line;
  std::array<char, 4096> buffer{};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (line.find('\n') == std::string::npos) {
    pollfd pfd{fd, POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline ||
        ::poll(&pfd, 1, 200) < 0) {
      return;
    }
    if ((pfd.revents & POLLIN) == 0) continue;
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) return;
    line.append(buffer.data(), static_cast<std::size_t>(n));
    if (line.size() > (std::size_t{64} << 20)) return;
  }
  line.resize(line.find('\n'));
  std::string response;
  Result<ledger::ControlRequest> request = ledger::ParseControlRequest(line);
  if (!request.ok()) {
    response = ledger::ControlErrorResponse(request.status().message());
  } else if (!accepting_) {
    response = ledger::ControlErrorResponse("the exchange is shutting down");
  } else if (request->verb == "close-day" ||
             ledger::IsWriteVerb(request->verb)) {
    auto item = new Inbound;
    item->kind = request->verb == "close-day" ? Inbound::Kind::kCloseDay
                                              : Inbound::Kind::kOperator;
    item->line = line;
    item->reply = std::make_shared<std::promise<std::string>>();
    std::future<std::string> answer = item->reply->get_future();
    Push(item);
    if (answer.wait_for(std::chrono::seconds(60)) ==
        std::future_status::ready) {
      response = answer.get();
    } else {
      response = ledger::ControlErrorResponse(
          "timed out waiting for the "
          "exchange");
    }
  } else {
    response = ledger::ControlErrorResponse(
        "'" + request->verb + "' is not a write: run it without the server");
  }
  response += '\n';
  std::size_t done = 0;
  while (done < response.size()) {
    ssize_t n = ::write(fd, response.data() + done, response.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
}

void Server::Impl::ControlLoop() {
  while (!stop_aux_) {
    pollfd pfd{control_fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 200);
    if (ready <= 0 || (pfd.revents & POLLIN) == 0) continue;
    int client = ::accept4(control_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ServeControlClient(client);
    ::close(client);
  }
}

// ---------------------------------------------------------------------------
// Stop

Status Server::Impl::Stop() {
  if (stopped_.exchange(true)) return Status::Ok();
  spdlog::info("stopping: logging sessions out");
  accepting_ = false;
  // A broker that does not read must not hold up the stop: writes to it
  // give up after kStopWriteTime (its messages are in its session's store).
  const auto write_deadline = std::chrono::steady_clock::now() + kStopWriteTime;
  for (auto& [id, slot] : slots_) slot->responder.SetDeadline(write_deadline);
  stop_aux_ = true;
  if (control_.joinable()) control_.join();
  if (clock_.joinable()) clock_.join();
  if (control_fd_ >= 0) {
    ::close(control_fd_);
    control_fd_ = -1;
    std::filesystem::remove(ledger::ControlSocketPath(options_.db_dir));
  }
  if (acceptor_) {
    for (auto& [id, slot] : slots_) {
      if (FIX::Session* s = FIX::Session::lookupSession(slot->session_id)) {
        if (s->isLoggedOn()) s->logout("exchange shutting down");
      }
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      bool any = false;
      for (auto& [id, slot] : slots_) any = any || slot->logged_on.load();
      if (!any) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Drain: the sequencer executes and commits all accepted commands, hands
  // the last settlement to the writer and the last reports to the senders.
  stop_sequencer_ = true;
  sequencer_waker_.WakeAlways();
  if (sequencer_.joinable()) sequencer_.join();
  stop_writer_ = true;
  writer_waker_.WakeAlways();
  writer_pause_.WakeAlways();
  if (writer_.joinable()) writer_.join();
  stop_senders_ = true;
  for (auto& [id, slot] : slots_) {
    slot->waker.WakeAlways();
  }
  auto sender_deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (auto& [id, slot] : slots_) {
    while (slot->queue.read_available() > 0 &&
           std::chrono::steady_clock::now() < sender_deadline) {
      slot->waker.WakeAlways();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (acceptor_) {
    // Connections still open (never logged on, or not yet closed after their
    // Logout) are ended by their own threads: QuickFIX's stop() would close
    // their sockets from this thread while those threads still use them.
    if (!EndAcceptedConnections(*acceptor_, acceptor_kind_,
                                std::chrono::seconds(1))) {
      spdlog::warn(
          "stopping: FIX connections still open after 1 s; the acceptor "
          "closes them");
    }
    try {
      acceptor_->stop(true);
    } catch (const std::exception& e) {
      spdlog::warn("stopping the FIX acceptor: {}", e.what());
    }
  }
  stop_audit_ = true;
  if (audit_.joinable()) audit_.join();  // flushes the last logon records
  for (auto& [id, slot] : slots_) {
    slot->waker.WakeAlways();
    if (slot->sender.joinable()) slot->sender.join();
    Outbound* out = nullptr;
    while (slot->queue.pop(out)) delete out;
  }
  Status result = Status::Ok();
  if (unsettled_) {
    spdlog::error(
        "stopped with trades the registry refused to settle: the snapshot "
        "is not renewed; the next start settles them from the journal");
  }
  if (engine_ && journal_ && !failed_ && !unsettled_) {
    SnapshotFile snapshot;
    snapshot.seq = last_seq_;
    snapshot.last_time_ns = last_time_ns_;
    snapshot.last_close_ns = last_close_ns_;
    snapshot.state_hash = engine_->StateHash();
    snapshot.known = known_;
    snapshot.engine = engine_->SaveSnapshot();
    snapshot.max_open_orders_per_account =
        options_.config.max_open_orders_per_account;
    snapshot.max_open_orders_per_broker =
        options_.config.max_open_orders_per_broker;
    published_hash_ = snapshot.state_hash;
    result = WriteSnapshotFile(Path("engine.snapshot"), snapshot);
    spdlog::info("stopped: seq {} state hash {:016x}", last_seq_,
                 snapshot.state_hash);
  }
  if (failed_ && result.ok()) {
    result = Status::IoError("the journal failed while running");
  }
  journal_.reset();
  return result;
}

Server::Impl::~Impl() {
  (void)Stop();
  Inbound* item = nullptr;
  while (inbound_.pop(item)) delete item;
  ledger::ServerBatch* batch = nullptr;
  while (writer_queue_.pop(batch)) delete batch;
  for (ledger::ServerBatch* b : writer_backlog_) delete b;
  for (auto& [id, slot] : slots_) {
    for (Outbound* out : slot->overflow) delete out;
  }
}

// ---------------------------------------------------------------------------
// Server

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  Status started = impl->Start();
  if (!started.ok()) {
    (void)impl->Stop();
    return started;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;
Status Server::Stop() { return impl_->Stop(); }
std::uint64_t Server::StateHash() const { return impl_->published_hash_; }
std::uint64_t Server::LastSequence() const { return impl_->published_seq_; }
std::uint16_t Server::fix_port() const { return impl_->port(); }

}  // namespace carbonex::gateway
