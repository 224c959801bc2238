#include "carbonex/engine/engine.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "carbonex/engine/id_map.h"
#include "carbonex/engine/order_book.h"
#include "carbonex/engine/order_slot_index.h"
#include "client_order_index.h"

namespace carbonex::engine {
namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

std::uint64_t Fnv1a64(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = kFnvOffset;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= kFnvPrime;
  }
  return h;
}

// Snapshot format constants (docs/engine.md, "Snapshot format").
constexpr std::array<std::uint8_t, 8> kSnapshotMagic = {'C', 'B', 'X', 'E',
                                                        'N', 'G', 'S', '1'};
constexpr std::uint32_t kSnapshotVersion = 1;

// Upper bound on any price, so that price × quantity never overflows int64
// for quantities up to 2^31 (the engine also checks the product).
constexpr std::int64_t kMaxPrice = std::int64_t{1} << 40;

// Per-book pool reservation: the engine-wide expected_orders spread over
// instruments would be a guess; books start at this size and grow by
// doubling (amortised, never per order once at peak).
constexpr std::size_t kMaxBookReserve = std::size_t{1} << 16;

// price × qty stays within int64 (both already positive).
bool NotionalFits(Price price, Quantity qty) {
  return price.value() <=
         std::numeric_limits<std::int64_t>::max() / qty.value();
}

bool ValidSide(Side side) { return side == Side::kBuy || side == Side::kSell; }
bool ValidType(OrderType t) {
  return t == OrderType::kLimit || t == OrderType::kMarket;
}
bool ValidTif(TimeInForce t) {
  return t == TimeInForce::kDay || t == TimeInForce::kGtc ||
         t == TimeInForce::kIoc || t == TimeInForce::kFok;
}
bool ValidStatus(TradingStatus s) {
  return s == TradingStatus::kOpen || s == TradingStatus::kHalted;
}

// Little-endian byte writer and bounds-checked reader for snapshots.
class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>* out) : out_(out) {}
  void U8(std::uint8_t v) { out_->push_back(v); }
  void U32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      out_->push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  void U64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      out_->push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
  }
  void I64(std::int64_t v) { U64(static_cast<std::uint64_t>(v)); }
  void Bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    out_->insert(out_->end(), p, p + size);
  }

 private:
  std::vector<std::uint8_t>* out_;
};

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size)
      : data_(data), size_(size) {}
  bool ok() const { return ok_; }
  std::size_t remaining() const { return size_ - pos_; }
  std::uint8_t U8() {
    if (!Need(1)) return 0;
    return data_[pos_++];
  }
  std::uint32_t U32() {
    if (!Need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v |= static_cast<std::uint32_t>(data_[pos_++]) << (8 * i);
    }
    return v;
  }
  std::uint64_t U64() {
    if (!Need(8)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<std::uint64_t>(data_[pos_++]) << (8 * i);
    }
    return v;
  }
  std::int64_t I64() { return static_cast<std::int64_t>(U64()); }
  void Bytes(void* out, std::size_t size) {
    if (!Need(size)) return;
    std::memcpy(out, data_ + pos_, size);
    pos_ += size;
  }

 private:
  bool Need(std::size_t n) {
    if (!ok_ || size_ - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Memory for one ChunkedVector chunk, released with std::free. Chunks of
// 1 MiB or more are aligned to 2 MiB and, on Linux, marked for transparent
// huge pages: a growing store then takes one page fault per 2 MiB instead of
// one per 4 KiB (first-touch faults are what a fresh store costs, and they
// are dear on a virtual machine) and fewer TLB misses. This is only a hint
// to the kernel: no result depends on it.
void* AllocateChunk(std::size_t bytes) {
  constexpr std::size_t kHugePage = std::size_t{2} << 20;
  const bool huge = bytes >= kHugePage / 2;
  const std::size_t align = huge ? kHugePage : 64;
  const std::size_t size = (bytes + align - 1) / align * align;
  void* memory = std::aligned_alloc(align, size);
  if (memory == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) static_cast<void>(madvise(memory, size, MADV_HUGEPAGE));
#endif
  return memory;
}

struct ChunkFree {
  void operator()(void* memory) const { std::free(memory); }
};

// Stable, chunked storage: grows a chunk of 2^kChunkBits elements at a time,
// never moves elements (so growth costs no copying and references stay
// valid).
template <typename T, std::size_t kChunkBits = 12>
class ChunkedVector {
 public:
  static_assert(std::is_trivially_destructible_v<T>);
  static constexpr std::size_t kChunk = std::size_t{1} << kChunkBits;

  T& operator[](std::size_t i) {
    return chunks_[i >> kChunkBits].get()[i & (kChunk - 1)];
  }
  const T& operator[](std::size_t i) const {
    return chunks_[i >> kChunkBits].get()[i & (kChunk - 1)];
  }
  [[nodiscard]] std::size_t size() const { return size_; }
  // Reserves the chunk table only; chunks are allocated as they fill (one
  // allocation per kChunk elements).
  void reserve(std::size_t n) { chunks_.reserve((n + kChunk - 1) / kChunk); }
  // Forgets the elements but keeps the chunks for reuse: refilling to the
  // old size allocates nothing and touches no fresh memory.
  void clear() { size_ = 0; }
  // Allocates (and, constructing the elements, touches) chunks for at least
  // n elements, so that growing to n takes no allocation or page fault.
  void AllocateFor(std::size_t n) {
    while (chunks_.size() * kChunk < n) AddChunk();
  }
  T& emplace_back() {
    if (size_ == chunks_.size() * kChunk) AddChunk();
    return (*this)[size_++];
  }

 private:
  void AddChunk() {
    T* first = static_cast<T*>(AllocateChunk(kChunk * sizeof(T)));
    // Default-initialised: T's own initialisers run once, without the
    // zero-fill that value-initialisation would add before them.
    std::uninitialized_default_construct_n(first, kChunk);
    chunks_.emplace_back(first);
  }

  std::vector<std::unique_ptr<T, ChunkFree>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace

class Engine::Impl {
 public:
  Impl(const EngineOptions& options, EventSink* sink)
      : options_(options),
        sink_(sink),
        slot_by_id_(options.expected_orders),
        cl_index_(options.expected_orders) {
    records_.reserve(options.expected_orders);
    done_.AllocateFor(options.expected_done_orders);
    // At most one key release per done order (a replace finishes the order
    // it replaces); reserved, not touched.
    releases_.reserve(options.expected_done_orders);
    touched_.reserve(16);
    scratch_.reserve(1024);
  }

  void Load(const AccountState& state);
  void Execute(const Command& command);

  DepthSnapshot Depth(InstrumentId instrument, std::size_t max_levels) const;
  std::optional<OrderView> FindOrder(OrderId id) const;
  PositionView PositionOf(AccountId account, InstrumentId instrument) const;
  CashView CashOf(AccountId account) const;
  std::size_t RestingOrderCount() const;
  Status CheckInvariants() const;
  std::vector<std::uint8_t> SaveSnapshot() const;
  Status LoadSnapshot(const std::vector<std::uint8_t>& bytes);
  // The canonical state walk: the snapshot without its checksum trailer.
  void WriteState(std::vector<std::uint8_t>* out) const;

 private:
  struct Position {
    Quantity held{0};
    Quantity reserved{0};      // open sells
    Quantity pending_buys{0};  // open buys
  };

  struct Account {
    AccountId id;
    Cash cash_held{0};
    Cash cash_reserved{0};  // Σ limit × leaves over open limit buys
    std::optional<Quantity> holding_limit;
    std::map<std::uint32_t, Position> positions;  // by instrument id
    std::uint32_t open_orders = 0;  // live orders (derived, not in snapshots)
    // The last entitlement check of this account (EntitledTo's cache),
    // valid while entitlement_gen equals the engine's.
    std::uint64_t entitlement_gen = 0;
    BrokerId entitled_broker{0};
    bool entitled = false;
    // The last position found by FindPosition (positions are never erased
    // and std::map nodes never move, so the pointer stays valid).
    std::uint32_t found_instrument = 0;
    Position* found_position = nullptr;
  };

  struct Instrument {
    Instrument(InstrumentId i, Price t, Quantity m, TradingStatus s,
               std::size_t reserve)
        : id(i),
          tick(t),
          max_order_qty(m),
          status(s),
          book(reserve, /*index_ids=*/false) {}
    InstrumentId id;
    Price tick;
    Quantity max_order_qty;
    TradingStatus status;
    OrderBook book;
    bool touched = false;  // has level changes to report this command
  };

  // A live order (accepted, not yet done). Slots are recycled as soon as
  // the order is done (Retire), so records_ holds the live orders only and
  // stays as small as the books. A live order with a non-empty ClOrdID is
  // always in cl_index_ (the duplicate check refuses a second live holder).
  struct Record {
    OrderView view;
    bool in_use = false;
    bool live = false;          // resting in the book (or being executed)
    std::uint32_t slot = 0;     // own position in records_
    std::uint64_t cl_hash = 0;  // ClientOrderIndex::Hash of its key
    std::uint32_t next_free = IdMap::kNotFound;
    // Its node in the instrument's book while it rests there (the book
    // keeps no OrderId index of its own), else OrderBook::kNoHandle.
    std::uint32_t node = OrderBook::kNoHandle;
    // The order's account, its broker's open-order count and (with risk
    // checks) its position, bound while the order is live (std::map nodes
    // never move).
    Account* acc = nullptr;
    std::uint32_t* broker_open = nullptr;
    Position* pos = nullptr;
  };

  // A done order of the day (filled, cancelled, expired, or replaced down to
  // its filled quantity), kept until ExpireDayOrders for status answers,
  // cancel/replace rejects, FindOrder and snapshots. Appended in the order
  // the orders finish; leaves is always 0 (96 bytes).
  struct DoneOrder {
    OrderId order_id;
    Price price;  // 0 when !has_price
    Quantity order_qty;
    Quantity cum_qty;
    Cash cum_notional;
    BrokerId broker;
    AccountId account;
    InstrumentId instrument;
    ClientOrderId cl_ord_id;
    Side side = Side::kBuy;
    OrderType type = OrderType::kLimit;
    TimeInForce tif = TimeInForce::kDay;
    OrderStatus status = OrderStatus::kFilled;
    bool has_price = false;
    // (broker, ClOrdID) addressed this order when it was appended. Later
    // entries with the same key, live holders and releases override it (see
    // CatchUpDoneIndexes).
    bool key_holder = false;
  };

  // Marks that a live order gave up its (broker, ClOrdID) key by a replace:
  // done orders appended before position `at` no longer hold it.
  struct KeyRelease {
    std::size_t at;
    BrokerId broker;
    ClientOrderId cl_ord_id;
  };

  // Fills `d` (every field) from a done order's view, in place: the done
  // store's entries are written once, with no temporary.
  static void ToDone(const OrderView& v, bool key_holder, DoneOrder& d) {
    d.order_id = v.order_id;
    d.has_price = v.price.has_value();
    d.price = v.price.value_or(Price{0});
    d.order_qty = v.order_qty;
    d.cum_qty = v.cum_qty;
    d.cum_notional = v.cum_notional;
    d.broker = v.broker;
    d.account = v.account;
    d.instrument = v.instrument;
    d.cl_ord_id = v.cl_ord_id;
    d.side = v.side;
    d.type = v.type;
    d.tif = v.tif;
    d.status = v.status;
    d.key_holder = key_holder;
  }
  static OrderView ToView(const DoneOrder& d) {
    OrderView v;
    v.order_id = d.order_id;
    v.broker = d.broker;
    v.cl_ord_id = d.cl_ord_id;
    v.account = d.account;
    v.instrument = d.instrument;
    v.side = d.side;
    v.type = d.type;
    v.tif = d.tif;
    if (d.has_price) v.price = d.price;
    v.order_qty = d.order_qty;
    v.cum_qty = d.cum_qty;
    v.leaves_qty = Quantity{0};
    v.cum_notional = d.cum_notional;
    v.status = d.status;
    return v;
  }

  // The order a cancel/replace/status request addresses: a live record, or
  // else a done order of the day, or neither.
  struct Addressed {
    Record* live = nullptr;
    std::optional<OrderView> done;
    [[nodiscard]] const OrderView* view() const {
      if (live != nullptr) return &live->view;
      return done ? &*done : nullptr;
    }
  };

  // ---- helpers ----
  // Builds the event in place (no intermediate EventBody copy).
  template <typename Body>
  void Emit(Body&& body) {
    sink_->OnEvent(
        Event{header_, EventBody{std::in_place_type<std::decay_t<Body>>,
                                 std::forward<Body>(body)}});
  }

  Instrument* FindInstrument(InstrumentId id) {
    auto it = instruments_.find(id.value());
    return it == instruments_.end() ? nullptr : &it->second;
  }
  const Instrument* FindInstrument(InstrumentId id) const {
    auto it = instruments_.find(id.value());
    return it == instruments_.end() ? nullptr : &it->second;
  }
  Account* FindAccount(AccountId id) {
    if (id.value() < account_index_.size()) return account_index_[id.value()];
    auto it = accounts_.find(id.value());
    return it == accounts_.end() ? nullptr : &it->second;
  }
  const Account* FindAccount(AccountId id) const {
    if (id.value() < account_index_.size()) return account_index_[id.value()];
    auto it = accounts_.find(id.value());
    return it == accounts_.end() ? nullptr : &it->second;
  }
  // The account `id`, created if absent (accounts are never removed).
  Account& EnsureAccount(std::uint32_t id) {
    Account& acc = accounts_[id];
    if (id < kDenseAccountIds) {
      if (id >= account_index_.size()) account_index_.resize(id + 1, nullptr);
      account_index_[id] = &acc;
    }
    return acc;
  }
  // Entitled(), remembering the answer per account until the entitlements
  // change (an order flow sends many orders per broker and account).
  bool EntitledTo(BrokerId broker, Account& acc) {
    if (broker == kOperatorBroker) return true;
    if (acc.entitlement_gen != entitlement_gen_ ||
        acc.entitled_broker != broker) {
      acc.entitled = entitlements_.count({broker.value(), acc.id.value()}) != 0;
      acc.entitled_broker = broker;
      acc.entitlement_gen = entitlement_gen_;
    }
    return acc.entitled;
  }
  // The account's position in an instrument, or nullptr if it has none;
  // remembers the answer for the next order in the same instrument.
  static Position* FindPosition(Account& acc, InstrumentId id) {
    if (acc.found_position != nullptr && acc.found_instrument == id.value()) {
      return acc.found_position;
    }
    auto it = acc.positions.find(id.value());
    if (it == acc.positions.end()) return nullptr;
    acc.found_instrument = id.value();
    acc.found_position = &it->second;
    return &it->second;
  }
  static Position PositionOrZero(const Account& account, InstrumentId id) {
    auto it = account.positions.find(id.value());
    return it == account.positions.end() ? Position{} : it->second;
  }
  bool Entitled(BrokerId broker, AccountId account) const {
    return broker == kOperatorBroker ||
           entitlements_.count({broker.value(), account.value()}) != 0;
  }
  Instrument& AddInstrumentEntry(InstrumentId id, Price tick, Quantity max,
                                 TradingStatus status) {
    auto [it, inserted] = instruments_.try_emplace(
        id.value(), id, tick, max, status,
        std::min(options_.expected_orders, kMaxBookReserve));
    if (inserted)
      it->second.book.EnableLevelTracking(options_.emit_market_data);
    return it->second;
  }

  // Inlined: it runs for every rest, fill and cancel.
  [[gnu::always_inline]] void Touch(Instrument& ins) {
    if (options_.emit_market_data && !ins.touched) {
      ins.touched = true;
      touched_.push_back(&ins);
    }
  }
  void FlushMarketData();

  // A free record slot; its view is left for the caller to set in full.
  std::uint32_t AllocRecord();
  void FreeRecord(std::uint32_t slot);
  // The order id of the record at a slot slot_by_id_ holds.
  auto IdOfSlot() const {
    return [this](std::uint32_t slot) {
      return records_[slot].view.order_id.value();
    };
  }
  std::uint32_t SlotOf(OrderId id) const {
    return slot_by_id_.Find(id.value(), IdOfSlot());
  }
  Record* RecordOf(OrderId id) {
    const std::uint32_t slot = SlotOf(id);
    return slot == OrderSlotIndex::kNotFound ? nullptr : &records_[slot];
  }
  const Record* RecordOf(OrderId id) const {
    const std::uint32_t slot = SlotOf(id);
    return slot == OrderSlotIndex::kNotFound ? nullptr : &records_[slot];
  }

  // The live order holding (broker, ClOrdID), or ClientOrderIndex::kNotFound.
  std::uint32_t FindByClOrdId(BrokerId broker, const ClientOrderId& cl) const {
    return FindByClOrdId(broker, cl, ClientOrderIndex::Hash(broker, cl));
  }
  // The same with the key's hash already computed.
  std::uint32_t FindByClOrdId(BrokerId broker, const ClientOrderId& cl,
                              std::uint64_t h) const {
    return cl_index_.Find(h, [&](std::uint32_t slot) {
      const OrderView& v = records_[slot].view;
      return v.broker == broker && v.cl_ord_id == cl;
    });
  }
  bool LiveClOrdId(BrokerId broker, const ClientOrderId& cl) const {
    return !cl.empty() &&
           FindByClOrdId(broker, cl) != ClientOrderIndex::kNotFound;
  }
  void IndexClOrdId(std::uint32_t slot);
  void UnindexClOrdId(std::uint32_t slot);

  // Moves a live order that has just become done into the done store and
  // recycles its record slot. Precondition: !records_[slot].live, and the
  // order's events have been emitted (the record is gone afterwards).
  void Retire(std::uint32_t slot);

  // Done-store lookups (kNotFound when absent). The indexes behind them
  // are built lazily, on the first lookup after orders were appended, so
  // finishing an order costs one sequential append and no hash insert.
  void CatchUpDoneIndexes() const;
  std::uint32_t DoneById(OrderId id) const;
  std::uint32_t DoneByClOrdId(BrokerId broker, const ClientOrderId& cl) const;
  std::uint32_t DoneIndexFind(BrokerId broker, const ClientOrderId& cl,
                              std::uint64_t h) const {
    return done_by_cl_.Find(h, [&](std::uint32_t pos) {
      const DoneOrder& d = done_[pos];
      return d.broker == broker && d.cl_ord_id == cl;
    });
  }
  // True if the done order at `pos` is what (broker, ClOrdID) addresses.
  bool DoneHoldsKey(std::uint32_t pos) const;

  Addressed Lookup(BrokerId broker, const std::optional<OrderId>& order_id,
                   const ClientOrderId& cl);

  // `acc` and `pos`, when given, are the order's account and position
  // (already found by the caller); otherwise they are looked up, and the
  // position is created if the account has none for the instrument.
  void Bind(Record& rec, Account* acc = nullptr, Position* pos = nullptr) {
    rec.acc = acc != nullptr ? acc : &accounts_.at(rec.view.account.value());
    rec.broker_open = BrokerOpen(rec.view.broker);
    if (!options_.risk_checks) return;
    rec.pos =
        pos != nullptr ? pos : &rec.acc->positions[rec.view.instrument.value()];
  }
  // The broker's open-order counter (created at 0). std::map nodes never
  // move and the counters are never erased, so the last one is cached: an
  // order flow comes mostly from one broker at a time.
  std::uint32_t* BrokerOpen(BrokerId broker) {
    if (last_broker_open_ == nullptr || last_broker_ != broker) {
      last_broker_open_ = &broker_open_[broker.value()];
      last_broker_ = broker;
    }
    return last_broker_open_;
  }
  // Live/done transitions keep the open-order counts. Precondition of
  // MarkLive: Bind(rec) ran and rec is not live.
  static void MarkLive(Record& rec) {
    rec.live = true;
    ++rec.acc->open_orders;
    ++*rec.broker_open;
  }
  static void MarkDone(Record& rec) {
    if (!rec.live) return;
    rec.live = false;
    --rec.acc->open_orders;
    --*rec.broker_open;
  }
  // True if one more open order would break an EngineOptions limit.
  bool OverOpenOrderLimit(BrokerId broker, const Account& acc) const {
    if (options_.max_open_orders_per_account != 0 &&
        acc.open_orders >= options_.max_open_orders_per_account) {
      return true;
    }
    if (options_.max_open_orders_per_broker == 0 || broker == kOperatorBroker) {
      return false;
    }
    auto it = broker_open_.find(broker.value());
    return it != broker_open_.end() &&
           it->second >= options_.max_open_orders_per_broker;
  }
  void ReserveFor(const Record& rec);
  void ReleaseFor(const Record& rec, Quantity qty);
  void OnFill(std::uint32_t taker_slot, Instrument& ins, const BookFill& fill);
  // Matches a live order as taker, then rests or cancels its remainder.
  void Execute(std::uint32_t slot, Instrument& ins, std::optional<Cash> budget);
  // Removes a live order from its book if it rests there.
  void Unrest(Record& rec, Instrument& ins) {
    if (rec.node == OrderBook::kNoHandle) return;
    ins.book.CancelHandle(rec.node);
    rec.node = OrderBook::kNoHandle;
    Touch(ins);
  }
  // Takes a live order out: removes it from the book (if resting), releases
  // its reservations, and marks it done with `status`.
  void Finish(Record& rec, Instrument& ins, OrderStatus status);
  void CancelLive(std::uint32_t slot, Instrument& ins, CancelReason reason,
                  const ClientOrderId& cancel_cl);

  void Handle(const PlaceOrder& c);
  void Handle(const CancelOrder& c);
  void Handle(const ReplaceOrder& c);
  void Handle(const MassCancel& c);
  void Handle(const QueryOrderStatus& c);
  void Handle(const ExpireDayOrders& c);
  void Handle(const AdjustUnits& c);
  void Handle(const AdjustCash& c);
  void Handle(const AddInstrument& c);
  void Handle(const AddAccount& c);
  void Handle(const SetEntitlement& c);
  void Handle(const SetTradingStatus& c);

  EngineOptions options_;
  EventSink* sink_;
  CommandHeader header_{};

  std::map<std::uint32_t, Instrument> instruments_;
  std::map<std::uint32_t, Account> accounts_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> entitlements_;
  std::uint64_t entitlement_gen_ = 1;  // bumped on every change
  // Accounts by id, for ids below kDenseAccountIds (the rest: accounts_);
  // std::map nodes never move.
  static constexpr std::uint32_t kDenseAccountIds = 1U << 16;
  std::vector<Account*> account_index_;
  // Live orders per broker id (derived, not in snapshots).
  std::map<std::uint32_t, std::uint32_t> broker_open_;
  BrokerId last_broker_{0};  // BrokerOpen's cache
  std::uint32_t* last_broker_open_ = nullptr;

  // Live orders: records, OrderId → slot, (broker, ClOrdID) → slot.
  ChunkedVector<Record> records_;
  std::uint32_t free_record_ = IdMap::kNotFound;
  OrderSlotIndex slot_by_id_;
  ClientOrderIndex cl_index_;
  // Done orders of the day, in the order they finished; the releases of
  // ClOrdID keys by replaces; and the lazily built indexes over them (their
  // state is a cache: mutable, rebuilt from done_ and releases_ on demand).
  ChunkedVector<DoneOrder, 14> done_;  // 1.5 MiB chunks
  std::vector<KeyRelease> releases_;
  mutable IdMap done_by_id_;
  mutable ClientOrderIndex done_by_cl_;
  mutable bool done_indexes_sized_ = false;
  mutable std::size_t done_indexed_ = 0;  // done_[0, n) are indexed
  mutable std::size_t releases_applied_ = 0;
  std::uint64_t next_order_id_ = 1;
  std::uint64_t next_trade_id_ = 1;

  std::vector<Instrument*> touched_;
  std::vector<std::uint64_t> scratch_;
};

// ---------------------------------------------------------------------------
// Loading

void Engine::Impl::Load(const AccountState& state) {
  for (const InstrumentState& i : state.instruments) {
    Instrument& ins =
        AddInstrumentEntry(i.id, i.tick, i.max_order_qty, i.status);
    ins.tick = i.tick;
    ins.max_order_qty = i.max_order_qty;
    ins.status = i.status;
  }
  for (const AccountEntry& a : state.accounts) {
    Account& acc = EnsureAccount(a.id.value());
    acc.id = a.id;
    acc.cash_held = a.cash;
    acc.holding_limit = a.holding_limit;
  }
  for (const HoldingEntry& h : state.holdings) {
    auto it = accounts_.find(h.account.value());
    if (it == accounts_.end()) continue;  // excluded by ValidateState
    it->second.positions[h.instrument.value()].held = h.units;
  }
  for (const EntitlementEntry& e : state.entitlements) {
    entitlements_.insert({e.broker.value(), e.account.value()});
    ++entitlement_gen_;
  }
}

Status ValidateAccountState(const AccountState& state) {
  std::set<std::uint32_t> instruments;
  for (const InstrumentState& i : state.instruments) {
    const std::string what = "instrument " + std::to_string(i.id.value());
    if (!instruments.insert(i.id.value()).second) {
      return Status::InvalidArgument(what + " listed twice");
    }
    if (i.tick.value() <= 0 || i.tick.value() > kMaxPrice) {
      return Status::InvalidArgument(what + ": tick must be in 1.." +
                                     std::to_string(kMaxPrice));
    }
    if (i.max_order_qty.value() <= 0 ||
        i.max_order_qty.value() > std::numeric_limits<std::int32_t>::max()) {
      return Status::InvalidArgument(
          what + ": max order quantity must be in 1..2^31-1");
    }
    if (!ValidStatus(i.status)) {
      return Status::InvalidArgument(what + ": bad trading status");
    }
  }
  std::set<std::uint32_t> accounts;
  for (const AccountEntry& a : state.accounts) {
    const std::string what = "account " + std::to_string(a.id.value());
    if (!accounts.insert(a.id.value()).second) {
      return Status::InvalidArgument(what + " listed twice");
    }
    if (a.cash.value() < 0) {
      return Status::InvalidArgument(what + ": negative cash");
    }
    if (a.holding_limit && a.holding_limit->value() < 0) {
      return Status::InvalidArgument(what + ": negative holding limit");
    }
  }
  std::set<std::pair<std::uint32_t, std::uint32_t>> holdings;
  for (const HoldingEntry& h : state.holdings) {
    const std::string what =
        "holding of account " + std::to_string(h.account.value()) +
        " in instrument " + std::to_string(h.instrument.value());
    if (accounts.count(h.account.value()) == 0) {
      return Status::InvalidArgument(what + ": unknown account");
    }
    if (instruments.count(h.instrument.value()) == 0) {
      return Status::InvalidArgument(what + ": unknown instrument");
    }
    if (!holdings.insert({h.account.value(), h.instrument.value()}).second) {
      return Status::InvalidArgument(what + " listed twice");
    }
    if (h.units.value() < 0) {
      return Status::InvalidArgument(what + ": negative units");
    }
  }
  for (const EntitlementEntry& e : state.entitlements) {
    if (accounts.count(e.account.value()) == 0) {
      return Status::InvalidArgument(
          "entitlement of broker " + std::to_string(e.broker.value()) +
          " to unknown account " + std::to_string(e.account.value()));
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Records and the ClOrdID index

std::uint32_t Engine::Impl::AllocRecord() {
  std::uint32_t slot;
  if (free_record_ != IdMap::kNotFound) {
    slot = free_record_;
    free_record_ = records_[slot].next_free;
  } else {
    records_.emplace_back();
    slot = static_cast<std::uint32_t>(records_.size() - 1);
  }
  // Everything but the view is reset here; both callers (PlaceOrder and
  // LoadSnapshot) then set every field of the view, so it is not cleared
  // first.
  Record& rec = records_[slot];
  rec.in_use = true;
  rec.live = false;
  rec.slot = slot;
  rec.cl_hash = 0;
  rec.next_free = IdMap::kNotFound;
  rec.node = OrderBook::kNoHandle;
  rec.acc = nullptr;
  rec.broker_open = nullptr;
  rec.pos = nullptr;
  return slot;
}

void Engine::Impl::FreeRecord(std::uint32_t slot) {
  Record& rec = records_[slot];
  MarkDone(rec);
  rec.in_use = false;
  rec.next_free = free_record_;
  free_record_ = slot;
}

void Engine::Impl::IndexClOrdId(std::uint32_t slot) {
  Record& rec = records_[slot];
  if (rec.view.cl_ord_id.empty()) return;
  rec.cl_hash = ClientOrderIndex::Hash(rec.view.broker, rec.view.cl_ord_id);
  cl_index_.Insert(rec.cl_hash, slot);
}

void Engine::Impl::UnindexClOrdId(std::uint32_t slot) {
  const Record& rec = records_[slot];
  if (rec.view.cl_ord_id.empty()) return;
  cl_index_.Erase(rec.cl_hash, slot);
}

void Engine::Impl::Retire(std::uint32_t slot) {
  const Record& rec = records_[slot];
  ToDone(rec.view, !rec.view.cl_ord_id.empty(), done_.emplace_back());
  UnindexClOrdId(slot);
  slot_by_id_.Erase(rec.view.order_id.value(), slot);
  FreeRecord(slot);
}

// The done indexes replay done_ and releases_ in the order they were
// appended: an entry that holds its key takes the key over from any earlier
// done order (two done orders share a key only when the later was placed
// after the earlier finished), and a release drops the key from the done
// orders before it. A live holder of the key is looked up first, so it
// needs no entry here.
void Engine::Impl::CatchUpDoneIndexes() const {
  // Built on first use, sized for the day's expected done orders at once,
  // so that they do not grow (allocate) as orders finish.
  if (done_indexed_ == 0 && !done_indexes_sized_) {
    done_indexes_sized_ = true;
    if (options_.expected_done_orders > 0) {
      done_by_id_ = IdMap(options_.expected_done_orders);
      done_by_cl_ = ClientOrderIndex(options_.expected_done_orders);
    }
  }
  const std::size_t n = done_.size();
  while (true) {
    while (releases_applied_ < releases_.size() &&
           releases_[releases_applied_].at <= done_indexed_) {
      const KeyRelease& r = releases_[releases_applied_++];
      const std::uint64_t h = ClientOrderIndex::Hash(r.broker, r.cl_ord_id);
      const std::uint32_t pos = DoneIndexFind(r.broker, r.cl_ord_id, h);
      if (pos != ClientOrderIndex::kNotFound) done_by_cl_.Erase(h, pos);
    }
    if (done_indexed_ == n) break;
    const auto pos = static_cast<std::uint32_t>(done_indexed_++);
    const DoneOrder& d = done_[pos];
    done_by_id_.Insert(d.order_id.value(), pos);
    if (d.key_holder) {
      const std::uint64_t h = ClientOrderIndex::Hash(d.broker, d.cl_ord_id);
      const std::uint32_t before = DoneIndexFind(d.broker, d.cl_ord_id, h);
      if (before != ClientOrderIndex::kNotFound) done_by_cl_.Erase(h, before);
      done_by_cl_.Insert(h, pos);
    }
  }
}

std::uint32_t Engine::Impl::DoneById(OrderId id) const {
  if (done_.size() == 0) return IdMap::kNotFound;
  CatchUpDoneIndexes();
  return done_by_id_.Find(id.value());
}

std::uint32_t Engine::Impl::DoneByClOrdId(BrokerId broker,
                                          const ClientOrderId& cl) const {
  if (cl.empty() || done_.size() == 0) return ClientOrderIndex::kNotFound;
  CatchUpDoneIndexes();
  return DoneIndexFind(broker, cl, ClientOrderIndex::Hash(broker, cl));
}

bool Engine::Impl::DoneHoldsKey(std::uint32_t pos) const {
  const DoneOrder& d = done_[pos];
  return !d.cl_ord_id.empty() && !LiveClOrdId(d.broker, d.cl_ord_id) &&
         DoneByClOrdId(d.broker, d.cl_ord_id) == pos;
}

Engine::Impl::Addressed Engine::Impl::Lookup(
    BrokerId broker, const std::optional<OrderId>& order_id,
    const ClientOrderId& cl) {
  Addressed out;
  if (order_id) {
    if (Record* rec = RecordOf(*order_id); rec != nullptr) {
      if (broker == kOperatorBroker || rec->view.broker == broker) {
        out.live = rec;
      }
      return out;
    }
    const std::uint32_t pos = DoneById(*order_id);
    if (pos != IdMap::kNotFound &&
        (broker == kOperatorBroker || done_[pos].broker == broker)) {
      out.done = ToView(done_[pos]);
    }
    return out;
  }
  if (cl.empty()) return out;
  if (const std::uint32_t slot = FindByClOrdId(broker, cl);
      slot != ClientOrderIndex::kNotFound) {
    out.live = &records_[slot];
    return out;
  }
  if (const std::uint32_t pos = DoneByClOrdId(broker, cl);
      pos != ClientOrderIndex::kNotFound) {
    out.done = ToView(done_[pos]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Reservations and settlement

void Engine::Impl::ReserveFor(const Record& rec) {
  if (!options_.risk_checks) return;
  const OrderView& v = rec.view;
  Account& acc = *rec.acc;
  Position& pos = *rec.pos;
  if (v.side == Side::kSell) {
    pos.reserved += v.leaves_qty;
  } else {
    pos.pending_buys += v.leaves_qty;
    if (v.type == OrderType::kLimit) {
      acc.cash_reserved += Notional(*v.price, v.leaves_qty);
    }
  }
}

void Engine::Impl::ReleaseFor(const Record& rec, Quantity qty) {
  if (!options_.risk_checks || qty.value() == 0) return;
  const OrderView& v = rec.view;
  Account& acc = *rec.acc;
  Position& pos = *rec.pos;
  if (v.side == Side::kSell) {
    pos.reserved -= qty;
  } else {
    pos.pending_buys -= qty;
    if (v.type == OrderType::kLimit)
      acc.cash_reserved -= Notional(*v.price, qty);
  }
}

void Engine::Impl::OnFill(std::uint32_t taker_slot, Instrument& ins,
                          const BookFill& fill) {
  // The book hands back the slot the maker was rested with.
  const std::uint32_t maker_slot = fill.maker_tag;
  Record& maker = records_[maker_slot];
  Record& taker = records_[taker_slot];
  const TradeId trade_id{next_trade_id_++};
  const Cash notional = Notional(fill.price, fill.qty);
  for (Record* rec : {&maker, &taker}) {
    OrderView& v = rec->view;
    v.cum_qty += fill.qty;
    v.leaves_qty -= fill.qty;
    v.cum_notional += notional;
    v.status = v.leaves_qty.value() == 0 ? OrderStatus::kFilled
                                         : OrderStatus::kPartiallyFilled;
    if (v.leaves_qty.value() == 0) MarkDone(*rec);
  }
  const Record& buy_rec = taker.view.side == Side::kBuy ? taker : maker;
  const Record& sell_rec = taker.view.side == Side::kBuy ? maker : taker;
  const OrderView& buy = buy_rec.view;
  const OrderView& sell = sell_rec.view;
  if (options_.risk_checks) {
    // Delivery versus payment at the trade price; the buyer's reservation
    // at its limit price is released for the filled part.
    Account& buyer = *buy_rec.acc;
    Account& seller = *sell_rec.acc;
    Position& buyer_pos = *buy_rec.pos;
    Position& seller_pos = *sell_rec.pos;
    buyer.cash_held -= notional;
    if (buy.type == OrderType::kLimit) {
      buyer.cash_reserved -= Notional(*buy.price, fill.qty);
    }
    buyer_pos.held += fill.qty;
    buyer_pos.pending_buys -= fill.qty;
    seller.cash_held += notional;
    seller_pos.held -= fill.qty;
    seller_pos.reserved -= fill.qty;
  }
  Emit(TradeExecuted{trade_id, ins.id, fill.price, fill.qty, buy.order_id,
                     sell.order_id, buy.account, sell.account, buy.broker,
                     sell.broker, taker.view.side});
  Emit(OrderFilled{maker.view, trade_id, fill.price, fill.qty, true});
  Emit(OrderFilled{taker.view, trade_id, fill.price, fill.qty, false});
  // A filled maker is done (the book drops it after this call); the taker
  // is retired by Execute once matching is over.
  if (!maker.live) Retire(maker_slot);
}

void Engine::Impl::Finish(Record& rec, Instrument& ins, OrderStatus status) {
  OrderView& v = rec.view;
  Unrest(rec, ins);
  ReleaseFor(rec, v.leaves_qty);
  v.leaves_qty = Quantity{0};
  v.status = status;
  MarkDone(rec);
}

void Engine::Impl::CancelLive(std::uint32_t slot, Instrument& ins,
                              CancelReason reason,
                              const ClientOrderId& cancel_cl) {
  Record& rec = records_[slot];
  Finish(rec, ins, OrderStatus::kCanceled);
  Emit(OrderCanceled{rec.view, cancel_cl, reason});
  Retire(slot);
}

void Engine::Impl::Execute(std::uint32_t slot, Instrument& ins,
                           std::optional<Cash> budget) {
  const OrderView& v = records_[slot].view;
  MatchRequest request;
  request.taker = v.order_id;
  request.side = v.side;
  request.limit = v.price;
  request.qty = v.leaves_qty;
  request.budget = budget;
  request.owner = v.account;

  if (v.tif == TimeInForce::kFok) {
    const MatchResult dry = ins.book.Fillable(request);
    if (dry.filled < request.qty) {
      CancelLive(slot, ins, CancelReason::kFillOrKill, ClientOrderId{});
      return;
    }
  }
  const MatchResult result = ins.book.Match(
      request, [&](const BookFill& fill) { OnFill(slot, ins, fill); });
  if (result.filled.value() > 0) Touch(ins);

  Record& rec = records_[slot];
  if (rec.view.leaves_qty.value() == 0) {  // filled
    Retire(slot);
    return;
  }
  std::optional<CancelReason> reason;
  if (result.stop == MatchStop::kSelfTrade) {
    reason = CancelReason::kSelfTrade;
  } else if (rec.view.type == OrderType::kMarket) {
    reason = result.stop == MatchStop::kBudget
                 ? CancelReason::kMarketCashLimit
                 : CancelReason::kMarketNoLiquidity;
  } else if (rec.view.tif == TimeInForce::kIoc ||
             rec.view.tif == TimeInForce::kFok) {
    reason = CancelReason::kImmediateOrCancel;
  }
  if (reason) {
    CancelLive(slot, ins, *reason, ClientOrderId{});
    return;
  }
  rec.node =
      ins.book.RestWithHandle(rec.view.order_id, rec.view.side, *rec.view.price,
                              rec.view.leaves_qty, rec.view.account, slot);
  Touch(ins);
}

// ---------------------------------------------------------------------------
// Commands

void Engine::Impl::Execute(const Command& command) {
  header_ = command.header;
  std::visit([this](const auto& body) { Handle(body); }, command.body);
  FlushMarketData();
}

void Engine::Impl::FlushMarketData() {
  if (touched_.empty()) return;
  if (touched_.size() > 1) {
    std::sort(
        touched_.begin(), touched_.end(),
        [](const Instrument* a, const Instrument* b) { return a->id < b->id; });
  }
  for (Instrument* ins : touched_) {
    ins->touched = false;
    ins->book.TakeLevelChanges([&](const LevelChange& c) {
      Emit(BookLevelChanged{ins->id, c.side, c.price, c.total, c.count});
    });
  }
  touched_.clear();
}

void Engine::Impl::Handle(const PlaceOrder& c) {
  const BrokerId broker = header_.broker;
  auto reject = [&](RejectReason reason) {
    Emit(OrderRejected{broker, c, reason});
  };
  // Validation: the command alone, then the instrument and account.
  if (!ValidSide(c.side) || !ValidType(c.type) || !ValidTif(c.tif)) {
    return reject(RejectReason::kBadCommand);
  }
  Instrument* ins = FindInstrument(c.instrument);
  if (ins == nullptr) return reject(RejectReason::kUnknownInstrument);
  Account* acc = FindAccount(c.account);
  if (acc == nullptr) return reject(RejectReason::kUnknownAccount);
  if (options_.risk_checks && !EntitledTo(broker, *acc)) {
    return reject(RejectReason::kUnauthorisedAccount);
  }
  if (c.type == OrderType::kLimit) {
    if (!c.price || c.price->value() <= 0 || c.price->value() > kMaxPrice ||
        c.price->value() % ins->tick.value() != 0) {
      return reject(RejectReason::kBadPrice);
    }
  } else if (c.price) {
    return reject(RejectReason::kBadPrice);  // a market order has no price
  }
  if (c.qty.value() <= 0 || c.qty > ins->max_order_qty) {
    return reject(RejectReason::kBadQuantity);
  }
  if (c.price && !NotionalFits(*c.price, c.qty)) {
    return reject(RejectReason::kBadPrice);
  }
  // Book state.
  if (ins->status == TradingStatus::kHalted) {
    return reject(RejectReason::kMarketClosed);
  }
  // One hash serves the duplicate check (live orders only) and the
  // insertion below.
  const std::uint64_t cl_hash =
      c.cl_ord_id.empty() ? 0 : ClientOrderIndex::Hash(broker, c.cl_ord_id);
  const std::uint32_t same_cl =
      c.cl_ord_id.empty() ? ClientOrderIndex::kNotFound
                          : FindByClOrdId(broker, c.cl_ord_id, cl_hash);
  if (same_cl != ClientOrderIndex::kNotFound) {
    return reject(RejectReason::kDuplicateClientOrderId);
  }
  // Risk.
  std::optional<Cash> budget;
  Position* bound_pos = nullptr;  // the order's position, if it exists
  if (options_.risk_checks) {
    bound_pos = FindPosition(*acc, c.instrument);
    const Position pos = bound_pos != nullptr ? *bound_pos : Position{};
    const Cash free_cash = acc->cash_held - acc->cash_reserved;
    if (c.side == Side::kSell) {
      if (pos.held - pos.reserved < c.qty) {
        return reject(RejectReason::kInsufficientUnits);
      }
    } else {
      if (c.type == OrderType::kLimit) {
        if (Notional(*c.price, c.qty) > free_cash) {
          return reject(RejectReason::kInsufficientCash);
        }
      } else {
        if (free_cash.value() <= 0) {
          return reject(RejectReason::kInsufficientCash);
        }
        budget = free_cash;
      }
      if (acc->holding_limit &&
          pos.held + pos.pending_buys + c.qty > *acc->holding_limit) {
        return reject(RejectReason::kHoldingLimit);
      }
    }
  }
  if (OverOpenOrderLimit(broker, *acc)) {
    return reject(RejectReason::kOpenOrderLimit);
  }

  // Accept: reserve, then match, then rest or cancel the remainder.
  const std::uint32_t slot = AllocRecord();
  Record& rec = records_[slot];
  OrderView& v = rec.view;
  v.order_id = OrderId{next_order_id_++};
  v.broker = broker;
  v.cl_ord_id = c.cl_ord_id;
  v.account = c.account;
  v.instrument = c.instrument;
  v.side = c.side;
  v.type = c.type;
  v.tif = c.tif;
  v.price = c.price;
  v.order_qty = c.qty;
  v.cum_qty = Quantity{0};
  v.leaves_qty = c.qty;
  v.cum_notional = Cash{0};
  v.status = OrderStatus::kNew;
  slot_by_id_.Insert(v.order_id.value(), slot, IdOfSlot());
  if (!v.cl_ord_id.empty()) {
    rec.cl_hash = cl_hash;
    cl_index_.Insert(cl_hash, slot);
  }
  Bind(rec, acc, bound_pos);
  MarkLive(rec);
  ReserveFor(rec);
  Emit(OrderAccepted{v});
  Execute(slot, *ins, budget);
}

void Engine::Impl::Handle(const CancelOrder& c) {
  const BrokerId broker = header_.broker;
  auto reject = [&](RejectReason reason, const OrderView* view) {
    Emit(CancelRejected{
        broker, c.cl_ord_id, c.orig_cl_ord_id, c.order_id, c.account,
        c.instrument, c.side, CancelRequestKind::kCancel, reason,
        view != nullptr ? std::optional<OrderView>(*view) : std::nullopt});
  };
  const Addressed found = Lookup(broker, c.order_id, c.orig_cl_ord_id);
  const OrderView* view = found.view();
  if (view == nullptr || view->account != c.account ||
      view->instrument != c.instrument || view->side != c.side) {
    return reject(RejectReason::kUnknownOrder, nullptr);
  }
  if (found.live == nullptr) {
    return reject(RejectReason::kTooLateToCancel, view);
  }
  CancelLive(found.live->slot, *FindInstrument(view->instrument),
             CancelReason::kRequested, c.cl_ord_id);
}

void Engine::Impl::Handle(const ReplaceOrder& c) {
  const BrokerId broker = header_.broker;
  auto reject = [&](RejectReason reason, const OrderView* view) {
    Emit(CancelRejected{
        broker, c.cl_ord_id, c.orig_cl_ord_id, c.order_id, c.account,
        c.instrument, c.side, CancelRequestKind::kReplace, reason,
        view != nullptr ? std::optional<OrderView>(*view) : std::nullopt});
  };
  const Addressed found = Lookup(broker, c.order_id, c.orig_cl_ord_id);
  const OrderView* view = found.view();
  if (view == nullptr || view->account != c.account ||
      view->instrument != c.instrument || view->side != c.side) {
    return reject(RejectReason::kUnknownOrder, nullptr);
  }
  if (view->type != OrderType::kLimit) {
    return reject(RejectReason::kReplaceNotLimit, view);
  }
  if (found.live == nullptr) {
    return reject(RejectReason::kTooLateToCancel, view);
  }
  const std::uint32_t slot = found.live->slot;
  Record& rec = *found.live;
  OrderView& v = rec.view;
  Instrument& ins = *FindInstrument(v.instrument);
  if (ins.status == TradingStatus::kHalted) {
    return reject(RejectReason::kMarketClosed, &v);
  }
  if (c.price.value() <= 0 || c.price.value() > kMaxPrice ||
      c.price.value() % ins.tick.value() != 0) {
    return reject(RejectReason::kBadPrice, &v);
  }
  if (c.qty.value() <= 0 || c.qty > ins.max_order_qty) {
    return reject(RejectReason::kBadQuantity, &v);
  }
  if (!NotionalFits(c.price, c.qty)) {
    return reject(RejectReason::kBadPrice, &v);
  }
  if (c.qty < v.cum_qty) return reject(RejectReason::kReplaceBelowFilled, &v);
  if (!(c.cl_ord_id == v.cl_ord_id) && LiveClOrdId(v.broker, c.cl_ord_id)) {
    return reject(RejectReason::kDuplicateClientOrderId, &v);
  }
  const Quantity old_leaves = v.leaves_qty;
  const Quantity new_leaves = c.qty - v.cum_qty;
  if (options_.risk_checks) {
    const Account& acc = *rec.acc;
    const Position& pos = *rec.pos;
    const Quantity more = new_leaves - old_leaves;
    if (v.side == Side::kSell) {
      if (more.value() > 0 && pos.held - pos.reserved < more) {
        return reject(RejectReason::kInsufficientUnits, &v);
      }
    } else {
      const Cash extra =
          Notional(c.price, new_leaves) - Notional(*v.price, old_leaves);
      if (extra.value() > 0 && acc.cash_held - acc.cash_reserved < extra) {
        return reject(RejectReason::kInsufficientCash, &v);
      }
      if (more.value() > 0 && acc.holding_limit &&
          pos.held + pos.pending_buys + more > *acc.holding_limit) {
        return reject(RejectReason::kHoldingLimit, &v);
      }
    }
  }

  // Apply. Priority survives only an unchanged price and a quantity that
  // does not grow.
  const bool keep = c.price == *v.price && c.qty <= v.order_qty;
  const ClientOrderId orig = v.cl_ord_id;
  ReleaseFor(rec, old_leaves);
  if (!c.cl_ord_id.empty() && !(c.cl_ord_id == v.cl_ord_id)) {
    // The old ClOrdID no longer addresses anything: not this order, nor a
    // done order it took the key from.
    if (!v.cl_ord_id.empty()) {
      UnindexClOrdId(slot);
      releases_.push_back(KeyRelease{done_.size(), v.broker, v.cl_ord_id});
    }
    v.cl_ord_id = c.cl_ord_id;
    IndexClOrdId(slot);
  }
  v.price = c.price;
  v.order_qty = c.qty;
  v.leaves_qty = new_leaves;
  ReserveFor(rec);
  if (new_leaves.value() == 0) {
    // Lowered to exactly the filled quantity: nothing is left open.
    Unrest(rec, ins);
    v.status = OrderStatus::kFilled;
    MarkDone(rec);
    Emit(OrderReplaced{v, orig, false});
    Retire(slot);
    return;
  }
  if (keep) {
    if (new_leaves < old_leaves && rec.node != OrderBook::kNoHandle) {
      ins.book.ReduceOpenHandle(rec.node, new_leaves);
      Touch(ins);
    }
    Emit(OrderReplaced{v, orig, true});
    return;
  }
  Unrest(rec, ins);
  Emit(OrderReplaced{v, orig, false});
  // The replaced order re-enters as an incoming order at its new price.
  Execute(slot, ins, std::nullopt);
}

void Engine::Impl::Handle(const MassCancel& c) {
  const BrokerId broker = header_.broker;
  auto done = [&](std::uint32_t affected, std::optional<RejectReason> reason) {
    Emit(MassCancelCompleted{broker, c, affected, reason});
  };
  switch (c.scope) {
    case MassCancelScope::kInstrument:
      if (!c.instrument) return done(0, RejectReason::kBadCommand);
      if (FindInstrument(*c.instrument) == nullptr) {
        return done(0, RejectReason::kUnknownInstrument);
      }
      break;
    case MassCancelScope::kAccount:
      if (!c.account) return done(0, RejectReason::kBadCommand);
      if (FindAccount(*c.account) == nullptr) {
        return done(0, RejectReason::kUnknownAccount);
      }
      if (options_.risk_checks && !Entitled(broker, *c.account)) {
        return done(0, RejectReason::kUnauthorisedAccount);
      }
      break;
    case MassCancelScope::kBroker:
      break;
    default:
      return done(0, RejectReason::kBadCommand);
  }
  scratch_.clear();
  for (std::size_t slot = 0; slot < records_.size(); ++slot) {
    const Record& rec = records_[slot];
    if (!rec.in_use || !rec.live) continue;
    const OrderView& v = rec.view;
    if (broker != kOperatorBroker && v.broker != broker) continue;
    if (c.scope == MassCancelScope::kInstrument &&
        v.instrument != *c.instrument)
      continue;
    if (c.scope == MassCancelScope::kAccount && v.account != *c.account)
      continue;
    if (c.day_orders_only && v.tif != TimeInForce::kDay) continue;
    scratch_.push_back(v.order_id.value());
  }
  std::sort(scratch_.begin(), scratch_.end());
  for (std::uint64_t id : scratch_) {
    const std::uint32_t slot = SlotOf(OrderId{id});
    CancelLive(slot, *FindInstrument(records_[slot].view.instrument),
               CancelReason::kMassCancel, c.cl_ord_id);
  }
  done(static_cast<std::uint32_t>(scratch_.size()), std::nullopt);
}

void Engine::Impl::Handle(const QueryOrderStatus& c) {
  const Addressed found = Lookup(header_.broker, c.order_id, c.cl_ord_id);
  const OrderView* found_view = found.view();
  std::optional<OrderView> view;
  if (found_view != nullptr && found_view->account == c.account &&
      found_view->instrument == c.instrument && found_view->side == c.side) {
    view = *found_view;
  }
  Emit(OrderStatusReported{c.cl_ord_id, view, c});
}

void Engine::Impl::Handle(const ExpireDayOrders& /*c*/) {
  scratch_.clear();
  for (std::size_t slot = 0; slot < records_.size(); ++slot) {
    const Record& rec = records_[slot];
    if (rec.in_use && rec.live && rec.view.tif == TimeInForce::kDay) {
      scratch_.push_back(rec.view.order_id.value());
    }
  }
  std::sort(scratch_.begin(), scratch_.end());
  for (std::uint64_t id : scratch_) {
    const std::uint32_t slot = SlotOf(OrderId{id});
    Record& rec = records_[slot];
    Finish(rec, *FindInstrument(rec.view.instrument), OrderStatus::kExpired);
    Emit(OrderExpired{rec.view});
    Retire(slot);
  }
  // The day is over: done orders are no longer reported. The done store
  // keeps its memory for the next day.
  done_.clear();
  releases_.clear();
  done_by_id_.Clear();
  done_by_cl_.Clear();
  done_indexed_ = 0;
  releases_applied_ = 0;
}

void Engine::Impl::Handle(const AdjustUnits& c) {
  auto reject = [&](RejectReason r) { Emit(OperatorCommandRejected{r}); };
  if (header_.broker != kOperatorBroker) {
    return reject(RejectReason::kUnauthorisedAccount);
  }
  Account* acc = FindAccount(c.account);
  if (acc == nullptr) return reject(RejectReason::kUnknownAccount);
  if (FindInstrument(c.instrument) == nullptr) {
    return reject(RejectReason::kUnknownInstrument);
  }
  const Position pos = PositionOrZero(*acc, c.instrument);
  if (c.delta.value() < 0 && pos.held - pos.reserved < -c.delta) {
    return reject(RejectReason::kInsufficientUnits);
  }
  std::int64_t sum = 0;
  if (__builtin_add_overflow(pos.held.value(), c.delta.value(), &sum)) {
    return reject(RejectReason::kBadQuantity);
  }
  acc->positions[c.instrument.value()].held = Quantity{sum};
  Emit(OperatorCommandApplied{});
}

void Engine::Impl::Handle(const AdjustCash& c) {
  auto reject = [&](RejectReason r) { Emit(OperatorCommandRejected{r}); };
  if (header_.broker != kOperatorBroker) {
    return reject(RejectReason::kUnauthorisedAccount);
  }
  Account* acc = FindAccount(c.account);
  if (acc == nullptr) return reject(RejectReason::kUnknownAccount);
  if (c.delta.value() < 0 && acc->cash_held - acc->cash_reserved < -c.delta) {
    return reject(RejectReason::kInsufficientCash);
  }
  std::int64_t sum = 0;
  if (__builtin_add_overflow(acc->cash_held.value(), c.delta.value(), &sum)) {
    return reject(RejectReason::kBadCommand);
  }
  acc->cash_held = Cash{sum};
  Emit(OperatorCommandApplied{});
}

void Engine::Impl::Handle(const AddInstrument& c) {
  auto reject = [&](RejectReason r) { Emit(OperatorCommandRejected{r}); };
  if (header_.broker != kOperatorBroker) {
    return reject(RejectReason::kUnauthorisedAccount);
  }
  if (FindInstrument(c.instrument) != nullptr || !ValidStatus(c.status)) {
    return reject(RejectReason::kBadCommand);
  }
  if (c.tick.value() <= 0 || c.tick.value() > kMaxPrice) {
    return reject(RejectReason::kBadPrice);
  }
  if (c.max_order_qty.value() <= 0 ||
      c.max_order_qty.value() > std::numeric_limits<std::int32_t>::max()) {
    return reject(RejectReason::kBadQuantity);
  }
  AddInstrumentEntry(c.instrument, c.tick, c.max_order_qty, c.status);
  Emit(OperatorCommandApplied{});
}

void Engine::Impl::Handle(const AddAccount& c) {
  auto reject = [&](RejectReason r) { Emit(OperatorCommandRejected{r}); };
  if (header_.broker != kOperatorBroker) {
    return reject(RejectReason::kUnauthorisedAccount);
  }
  if (FindAccount(c.account) != nullptr) {
    return reject(RejectReason::kBadCommand);
  }
  if (c.holding_limit && c.holding_limit->value() < 0) {
    return reject(RejectReason::kBadQuantity);
  }
  Account& acc = EnsureAccount(c.account.value());
  acc.id = c.account;
  acc.holding_limit = c.holding_limit;
  Emit(OperatorCommandApplied{});
}

void Engine::Impl::Handle(const SetEntitlement& c) {
  auto reject = [&](RejectReason r) { Emit(OperatorCommandRejected{r}); };
  if (header_.broker != kOperatorBroker) {
    return reject(RejectReason::kUnauthorisedAccount);
  }
  if (c.broker == kOperatorBroker) return reject(RejectReason::kBadCommand);
  if (FindAccount(c.account) == nullptr) {
    return reject(RejectReason::kUnknownAccount);
  }
  if (c.entitled) {
    entitlements_.insert({c.broker.value(), c.account.value()});
  } else {
    entitlements_.erase({c.broker.value(), c.account.value()});
  }
  ++entitlement_gen_;
  Emit(OperatorCommandApplied{});
}

void Engine::Impl::Handle(const SetTradingStatus& c) {
  auto reject = [&](RejectReason r) { Emit(OperatorCommandRejected{r}); };
  if (header_.broker != kOperatorBroker) {
    return reject(RejectReason::kUnauthorisedAccount);
  }
  Instrument* ins = FindInstrument(c.instrument);
  if (ins == nullptr) return reject(RejectReason::kUnknownInstrument);
  if (!ValidStatus(c.status)) return reject(RejectReason::kBadCommand);
  ins->status = c.status;
  Emit(OperatorCommandApplied{});
}

// ---------------------------------------------------------------------------
// Queries

DepthSnapshot Engine::Impl::Depth(InstrumentId instrument,
                                  std::size_t max_levels) const {
  DepthSnapshot out;
  out.instrument = instrument;
  const Instrument* ins = FindInstrument(instrument);
  if (ins == nullptr) return out;
  for (Side side : {Side::kBuy, Side::kSell}) {
    std::vector<LevelView>& levels = side == Side::kBuy ? out.bids : out.asks;
    ins->book.ForEachLevel(side, [&](Price p, Quantity q, std::uint32_t n) {
      if (levels.size() >= max_levels) return false;
      levels.push_back(LevelView{p, q, n});
      return true;
    });
  }
  return out;
}

std::optional<OrderView> Engine::Impl::FindOrder(OrderId id) const {
  if (const Record* rec = RecordOf(id); rec != nullptr) return rec->view;
  const std::uint32_t pos = DoneById(id);
  if (pos == IdMap::kNotFound) return std::nullopt;
  return ToView(done_[pos]);
}

PositionView Engine::Impl::PositionOf(AccountId account,
                                      InstrumentId instrument) const {
  const Account* acc = FindAccount(account);
  if (acc == nullptr) return {};
  const Position pos = PositionOrZero(*acc, instrument);
  return PositionView{pos.held, pos.reserved, pos.pending_buys};
}

CashView Engine::Impl::CashOf(AccountId account) const {
  const Account* acc = FindAccount(account);
  if (acc == nullptr) return {};
  return CashView{acc->cash_held, acc->cash_reserved};
}

std::size_t Engine::Impl::RestingOrderCount() const {
  std::size_t n = 0;
  for (const auto& [id, ins] : instruments_) n += ins.book.RestingOrders();
  return n;
}

// ---------------------------------------------------------------------------
// Invariants

Status Engine::Impl::CheckInvariants() const {
  auto fail = [](std::string m) { return Status::Internal(std::move(m)); };
  std::size_t resting = 0;
  // Expected reservations, recomputed from the live orders.
  std::map<std::pair<std::uint32_t, std::uint32_t>, Position> want_pos;
  std::map<std::uint32_t, Cash> want_cash;
  // Expected open-order counts, from the live orders.
  std::map<std::uint32_t, std::uint32_t> want_open_acc;
  std::map<std::uint32_t, std::uint32_t> want_open_broker;
  for (const auto& entry : instruments_) {
    const std::uint32_t id = entry.first;
    const Instrument& ins = entry.second;
    const std::string book_error = ins.book.CheckInvariants();
    if (!book_error.empty()) {
      return fail("instrument " + std::to_string(id) + ": " + book_error);
    }
    std::string error;
    ins.book.ForEachResting([&](OrderId oid, Side side, Price price,
                                Quantity open) {
      if (!error.empty()) return;
      const Record* rec = RecordOf(oid);
      if (rec == nullptr || !rec->live || rec->view.instrument != ins.id ||
          rec->view.side != side || rec->view.price != price ||
          rec->view.leaves_qty != open || rec->node == OrderBook::kNoHandle ||
          ins.book.AtHandle(rec->node).id != oid ||
          ins.book.AtHandle(rec->node).owner != rec->view.account) {
        error = "resting order " + std::to_string(oid.value()) +
                " disagrees with its record";
      }
    });
    if (!error.empty()) return fail(error);
    resting += ins.book.RestingOrders();
  }
  std::size_t live = 0;
  std::size_t in_use = 0;
  std::size_t indexed = 0;
  for (std::size_t slot = 0; slot < records_.size(); ++slot) {
    const Record& rec = records_[slot];
    if (!rec.in_use) continue;
    ++in_use;
    const OrderView& v = rec.view;
    const std::string what = "order " + std::to_string(v.order_id.value());
    if (SlotOf(v.order_id) != slot) {
      return fail(what + " missing from the order map");
    }
    if (v.order_id.value() >= next_order_id_) {
      return fail(what + " not below the next order id");
    }
    if (v.cum_qty + v.leaves_qty > v.order_qty || v.cum_qty.value() < 0 ||
        v.leaves_qty.value() < 0) {
      return fail(what + " quantities do not add up");
    }
    if (!v.cl_ord_id.empty()) {
      ++indexed;
      if (FindByClOrdId(v.broker, v.cl_ord_id) != slot) {
        return fail(what + " ClOrdID index entry broken");
      }
    }
    if (!rec.live) return fail(what + " is done but still has a record");
    {
      ++live;
      ++want_open_acc[v.account.value()];
      ++want_open_broker[v.broker.value()];
      if (v.leaves_qty.value() <= 0 ||
          v.cum_qty + v.leaves_qty != v.order_qty ||
          v.type != OrderType::kLimit ||
          (v.tif != TimeInForce::kDay && v.tif != TimeInForce::kGtc)) {
        return fail(what + " is live but not a resting limit order");
      }
      if (options_.risk_checks) {
        Position& p = want_pos[{v.account.value(), v.instrument.value()}];
        if (v.side == Side::kSell) {
          p.reserved += v.leaves_qty;
        } else {
          p.pending_buys += v.leaves_qty;
          want_cash[v.account.value()] += Notional(*v.price, v.leaves_qty);
        }
      }
    }
  }
  if (live != resting) {
    return fail(std::to_string(live) + " live orders but " +
                std::to_string(resting) + " resting");
  }
  if (in_use != slot_by_id_.size() || indexed != cl_index_.size()) {
    return fail("order map or ClOrdID index size disagrees with records");
  }
  // Done orders: consistent quantities, ids below the next id, each id once
  // and never also live.
  CatchUpDoneIndexes();
  if (done_by_id_.size() != done_.size()) {
    return fail("a done order id appears twice");
  }
  for (std::size_t pos = 0; pos < done_.size(); ++pos) {
    const DoneOrder& d = done_[pos];
    const std::string what = "done order " + std::to_string(d.order_id.value());
    if (d.order_id.value() >= next_order_id_) {
      return fail(what + " not below the next order id");
    }
    if (SlotOf(d.order_id) != OrderSlotIndex::kNotFound) {
      return fail(what + " is also live");
    }
    if (d.cum_qty.value() < 0 || d.cum_qty > d.order_qty) {
      return fail(what + " quantities do not add up");
    }
    if (d.key_holder && d.cl_ord_id.empty()) {
      return fail(what + " holds an empty ClOrdID");
    }
  }
  for (const auto& [broker, open] : broker_open_) {
    auto it = want_open_broker.find(broker);
    if (open != (it == want_open_broker.end() ? 0U : it->second)) {
      return fail("broker " + std::to_string(broker) +
                  " open-order count disagrees with its live orders");
    }
    if (it != want_open_broker.end()) want_open_broker.erase(it);
  }
  if (!want_open_broker.empty()) {
    return fail("live orders of broker " +
                std::to_string(want_open_broker.begin()->first) +
                " are not counted");
  }
  for (const auto& [id, acc] : accounts_) {
    const std::string what = "account " + std::to_string(id);
    {
      auto it = want_open_acc.find(id);
      if (acc.open_orders != (it == want_open_acc.end() ? 0U : it->second)) {
        return fail(what + " open-order count disagrees with its live orders");
      }
    }
    if (acc.cash_held.value() < 0 || acc.cash_reserved.value() < 0 ||
        acc.cash_reserved > acc.cash_held) {
      return fail(what + " cash negative or over-reserved");
    }
    if (options_.risk_checks) {
      auto it = want_cash.find(id);
      const Cash want = it == want_cash.end() ? Cash{0} : it->second;
      if (want != acc.cash_reserved) {
        return fail(what + " cash reservation " +
                    std::to_string(acc.cash_reserved.value()) +
                    " != open buys " + std::to_string(want.value()));
      }
    }
    for (const auto& [instrument, pos] : acc.positions) {
      const std::string pw = what + " instrument " + std::to_string(instrument);
      if (pos.held.value() < 0 || pos.reserved.value() < 0 ||
          pos.pending_buys.value() < 0 || pos.reserved > pos.held) {
        return fail(pw + " units negative or over-reserved");
      }
      if (options_.risk_checks) {
        auto it = want_pos.find({id, instrument});
        const Position want = it == want_pos.end() ? Position{} : it->second;
        if (want.reserved != pos.reserved ||
            want.pending_buys != pos.pending_buys) {
          return fail(pw + " unit reservations disagree with open orders");
        }
        if (it != want_pos.end()) want_pos.erase(it);
      }
    }
  }
  if (!want_pos.empty()) {
    return fail("open orders of account " +
                std::to_string(want_pos.begin()->first.first) +
                " have no position entry");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Snapshot

void Engine::Impl::WriteState(std::vector<std::uint8_t>* out) const {
  Writer w(out);
  w.Bytes(kSnapshotMagic.data(), kSnapshotMagic.size());
  w.U32(kSnapshotVersion);
  w.U64(next_order_id_);
  w.U64(next_trade_id_);
  w.U32(static_cast<std::uint32_t>(instruments_.size()));
  for (const auto& [id, ins] : instruments_) {
    w.U32(id);
    w.I64(ins.tick.value());
    w.I64(ins.max_order_qty.value());
    w.U8(static_cast<std::uint8_t>(ins.status));
  }
  w.U32(static_cast<std::uint32_t>(accounts_.size()));
  for (const auto& [id, acc] : accounts_) {
    w.U32(id);
    w.I64(acc.cash_held.value());
    w.I64(acc.cash_reserved.value());
    w.U8(acc.holding_limit ? 1 : 0);
    w.I64(acc.holding_limit ? acc.holding_limit->value() : 0);
    w.U32(static_cast<std::uint32_t>(acc.positions.size()));
    for (const auto& [instrument, pos] : acc.positions) {
      w.U32(instrument);
      w.I64(pos.held.value());
      w.I64(pos.reserved.value());
      w.I64(pos.pending_buys.value());
    }
  }
  w.U32(static_cast<std::uint32_t>(entitlements_.size()));
  for (const auto& [broker, account] : entitlements_) {
    w.U32(broker);
    w.U32(account);
  }
  // Orders (live and done of the day) in ascending id. The high bit of
  // `ref` tells a done-store position from a record slot.
  constexpr std::uint32_t kDoneRef = 0x8000'0000U;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> ids;
  ids.reserve(slot_by_id_.size() + done_.size());
  for (std::size_t slot = 0; slot < records_.size(); ++slot) {
    if (records_[slot].in_use) {
      ids.emplace_back(records_[slot].view.order_id.value(),
                       static_cast<std::uint32_t>(slot));
    }
  }
  for (std::size_t pos = 0; pos < done_.size(); ++pos) {
    ids.emplace_back(done_[pos].order_id.value(),
                     static_cast<std::uint32_t>(pos) | kDoneRef);
  }
  std::sort(ids.begin(), ids.end());
  w.U32(static_cast<std::uint32_t>(ids.size()));
  for (const auto& [id, ref] : ids) {
    const bool done = (ref & kDoneRef) != 0;
    const std::uint32_t index = ref & ~kDoneRef;
    const OrderView v = done ? ToView(done_[index]) : records_[index].view;
    const bool live = !done && records_[index].live;
    // A live order always holds its non-empty ClOrdID; a done one holds it
    // unless a later order has taken it or a replace released it.
    const bool indexed = done ? DoneHoldsKey(index) : !v.cl_ord_id.empty();
    w.U64(id);
    w.U32(v.broker.value());
    const std::string_view cl = v.cl_ord_id.view();
    w.U8(static_cast<std::uint8_t>(cl.size()));
    w.Bytes(cl.data(), cl.size());
    w.U32(v.account.value());
    w.U32(v.instrument.value());
    w.U8(static_cast<std::uint8_t>(v.side));
    w.U8(static_cast<std::uint8_t>(v.type));
    w.U8(static_cast<std::uint8_t>(v.tif));
    w.U8(v.price ? 1 : 0);
    w.I64(v.price ? v.price->value() : 0);
    w.I64(v.order_qty.value());
    w.I64(v.cum_qty.value());
    w.I64(v.leaves_qty.value());
    w.I64(v.cum_notional.value());
    w.U8(static_cast<std::uint8_t>(v.status));
    w.U8(static_cast<std::uint8_t>((live ? 1 : 0) | (indexed ? 2 : 0)));
  }
  // Books: resting order ids in priority order.
  for (const auto& [id, ins] : instruments_) {
    w.U32(id);
    w.U32(static_cast<std::uint32_t>(ins.book.RestingOrders()));
    ins.book.ForEachResting(
        [&](OrderId oid, Side, Price, Quantity) { w.U64(oid.value()); });
  }
}

std::vector<std::uint8_t> Engine::Impl::SaveSnapshot() const {
  std::vector<std::uint8_t> out;
  WriteState(&out);
  const std::uint64_t checksum = Fnv1a64(out.data(), out.size());
  Writer(&out).U64(checksum);
  return out;
}

Status Engine::Impl::LoadSnapshot(const std::vector<std::uint8_t>& bytes) {
  auto corrupt = [](const std::string& m) {
    return Status::Corruption("engine snapshot: " + m);
  };
  if (bytes.size() < kSnapshotMagic.size() + 4 + 8) {
    return corrupt("too short");
  }
  const std::size_t body = bytes.size() - 8;
  Reader trailer(bytes.data() + body, 8);
  if (trailer.U64() != Fnv1a64(bytes.data(), body)) {
    return corrupt("checksum mismatch");
  }
  Reader r(bytes.data(), body);
  std::array<std::uint8_t, 8> magic{};
  r.Bytes(magic.data(), magic.size());
  if (magic != kSnapshotMagic) return corrupt("bad magic");
  const std::uint32_t version = r.U32();
  if (version != kSnapshotVersion) {
    return corrupt("unsupported version " + std::to_string(version));
  }
  next_order_id_ = r.U64();
  next_trade_id_ = r.U64();
  const std::uint32_t n_instruments = r.U32();
  for (std::uint32_t i = 0; i < n_instruments && r.ok(); ++i) {
    const InstrumentId id{r.U32()};
    const Price tick{r.I64()};
    const Quantity max{r.I64()};
    const auto status = static_cast<TradingStatus>(r.U8());
    if (tick.value() <= 0 || max.value() <= 0 || !ValidStatus(status) ||
        FindInstrument(id) != nullptr) {
      return corrupt("bad instrument " + std::to_string(id.value()));
    }
    AddInstrumentEntry(id, tick, max, status);
  }
  const std::uint32_t n_accounts = r.U32();
  for (std::uint32_t i = 0; i < n_accounts && r.ok(); ++i) {
    const std::uint32_t id = r.U32();
    if (accounts_.count(id) != 0) return corrupt("duplicate account");
    Account& acc = EnsureAccount(id);
    acc.id = AccountId{id};
    acc.cash_held = Cash{r.I64()};
    acc.cash_reserved = Cash{r.I64()};
    const bool has_limit = r.U8() != 0;
    const Quantity limit{r.I64()};
    if (has_limit) acc.holding_limit = limit;
    const std::uint32_t n_positions = r.U32();
    for (std::uint32_t p = 0; p < n_positions && r.ok(); ++p) {
      const std::uint32_t instrument = r.U32();
      Position& pos = acc.positions[instrument];
      pos.held = Quantity{r.I64()};
      pos.reserved = Quantity{r.I64()};
      pos.pending_buys = Quantity{r.I64()};
    }
  }
  const std::uint32_t n_entitlements = r.U32();
  for (std::uint32_t i = 0; i < n_entitlements && r.ok(); ++i) {
    const std::uint32_t broker = r.U32();
    const std::uint32_t account = r.U32();
    entitlements_.insert({broker, account});
    ++entitlement_gen_;
  }
  const std::uint32_t n_orders = r.U32();
  if (!r.ok()) return corrupt("truncated");
  // Every order takes 67 bytes plus its ClOrdID (which may be empty):
  // reject absurd counts before allocating for them.
  if (n_orders > r.remaining() / 67) return corrupt("bad order count");
  // (broker, ClOrdID) keys flagged as indexed: at most one order each.
  std::set<std::pair<std::uint32_t, std::string>> keys;
  std::uint64_t previous_id = 0;
  for (std::uint32_t i = 0; i < n_orders && r.ok(); ++i) {
    OrderView v;
    v.order_id = OrderId{r.U64()};
    v.broker = BrokerId{r.U32()};
    const std::uint8_t cl_len = r.U8();
    if (cl_len > ClientOrderId::kMaxLength) return corrupt("bad ClOrdID");
    std::array<char, ClientOrderId::kMaxLength> cl{};
    r.Bytes(cl.data(), cl_len);
    v.cl_ord_id = ClientOrderId(std::string_view(cl.data(), cl_len));
    v.account = AccountId{r.U32()};
    v.instrument = InstrumentId{r.U32()};
    v.side = static_cast<Side>(r.U8());
    v.type = static_cast<OrderType>(r.U8());
    v.tif = static_cast<TimeInForce>(r.U8());
    const bool has_price = r.U8() != 0;
    const Price price{r.I64()};
    if (has_price) v.price = price;
    v.order_qty = Quantity{r.I64()};
    v.cum_qty = Quantity{r.I64()};
    v.leaves_qty = Quantity{r.I64()};
    v.cum_notional = Cash{r.I64()};
    v.status = static_cast<OrderStatus>(r.U8());
    const std::uint8_t flags = r.U8();
    if (!r.ok()) break;
    const bool live = (flags & 1U) != 0;
    const bool indexed = (flags & 2U) != 0;
    const std::string what = "bad order " + std::to_string(v.order_id.value());
    if (!ValidSide(v.side) || !ValidType(v.type) || !ValidTif(v.tif) ||
        FindInstrument(v.instrument) == nullptr ||
        FindAccount(v.account) == nullptr ||
        (v.type == OrderType::kLimit && (!v.price || price.value() <= 0)) ||
        v.order_id.value() == IdMap::kEmptyKey ||
        v.order_id.value() <= previous_id) {
      return corrupt(what);
    }
    previous_id = v.order_id.value();
    // A live order with a ClOrdID always holds it; the flag says which
    // done order, if any, a key addresses.
    if ((indexed && v.cl_ord_id.empty()) ||
        (live && !v.cl_ord_id.empty() && !indexed) ||
        (indexed &&
         !keys.emplace(v.broker.value(), std::string(v.cl_ord_id.view()))
              .second)) {
      return corrupt("bad ClOrdID index flag");
    }
    if (!live) {
      if (v.leaves_qty.value() != 0)
        return corrupt(what + ": done, leaves > 0");
      ToDone(v, indexed, done_.emplace_back());
      continue;
    }
    const std::uint32_t slot = AllocRecord();
    Record& rec = records_[slot];
    rec.view = v;
    slot_by_id_.Insert(v.order_id.value(), slot, IdOfSlot());
    IndexClOrdId(slot);
    Bind(rec);
    MarkLive(rec);
  }
  for (std::uint32_t i = 0; i < n_instruments && r.ok(); ++i) {
    Instrument* ins = FindInstrument(InstrumentId{r.U32()});
    if (ins == nullptr) return corrupt("book of unknown instrument");
    const std::uint32_t n = r.U32();
    for (std::uint32_t k = 0; k < n && r.ok(); ++k) {
      Record* rec = RecordOf(OrderId{r.U64()});
      if (rec == nullptr || !rec->live || rec->view.instrument != ins->id ||
          rec->node != OrderBook::kNoHandle) {
        return corrupt("bad resting order");
      }
      rec->node = ins->book.RestWithHandle(
          rec->view.order_id, rec->view.side, *rec->view.price,
          rec->view.leaves_qty, rec->view.account, rec->slot);
      if (rec->node == OrderBook::kNoHandle) {
        return corrupt("bad resting order");
      }
    }
  }
  if (!r.ok()) return corrupt("truncated");
  if (r.remaining() != 0) return corrupt("trailing bytes");
  // Loading is not a change to report: open fresh market-data windows.
  for (auto& entry : instruments_) {
    entry.second.book.EnableLevelTracking(options_.emit_market_data);
  }
  Status invariants = CheckInvariants();
  if (!invariants.ok()) return corrupt(invariants.message());
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Engine

Engine::Engine(const EngineOptions& options, const AccountState& state,
               EventSink* sink)
    : impl_(std::make_unique<Impl>(options, sink)) {
  impl_->Load(state);
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options,
                                               const AccountState& state,
                                               EventSink* sink) {
  Status status = ValidateAccountState(state);
  if (!status.ok()) return status;
  return std::make_unique<Engine>(options, state, sink);
}

void Engine::Execute(const Command& command) { impl_->Execute(command); }

DepthSnapshot Engine::Depth(InstrumentId instrument,
                            std::size_t max_levels) const {
  return impl_->Depth(instrument, max_levels);
}

std::optional<OrderView> Engine::FindOrder(OrderId id) const {
  return impl_->FindOrder(id);
}

PositionView Engine::Position(AccountId account,
                              InstrumentId instrument) const {
  return impl_->PositionOf(account, instrument);
}

CashView Engine::CashOf(AccountId account) const {
  return impl_->CashOf(account);
}

std::size_t Engine::RestingOrderCount() const {
  return impl_->RestingOrderCount();
}

std::uint64_t Engine::StateHash() const {
  std::vector<std::uint8_t> bytes;
  impl_->WriteState(&bytes);
  return Fnv1a64(bytes.data(), bytes.size());
}

Status Engine::CheckInvariants() const { return impl_->CheckInvariants(); }

std::vector<std::uint8_t> Engine::SaveSnapshot() const {
  return impl_->SaveSnapshot();
}

Result<std::unique_ptr<Engine>> Engine::LoadSnapshot(
    const EngineOptions& options, const std::vector<std::uint8_t>& bytes,
    EventSink* sink) {
  auto impl = std::make_unique<Impl>(options, sink);
  Status status = impl->LoadSnapshot(bytes);
  if (!status.ok()) return status;
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

}  // namespace carbonex::engine
