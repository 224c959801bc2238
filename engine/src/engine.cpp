#include "carbonex/engine/engine.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "carbonex/engine/id_map.h"
#include "carbonex/engine/order_book.h"
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

// Stable, chunked storage: grows a chunk at a time, never moves elements
// (so growth costs no copying and references stay valid).
template <typename T>
class ChunkedVector {
 public:
  static constexpr std::size_t kChunkBits = 12;
  static constexpr std::size_t kChunk = std::size_t{1} << kChunkBits;

  T& operator[](std::size_t i) {
    return chunks_[i >> kChunkBits][i & (kChunk - 1)];
  }
  const T& operator[](std::size_t i) const {
    return chunks_[i >> kChunkBits][i & (kChunk - 1)];
  }
  [[nodiscard]] std::size_t size() const { return size_; }
  // Reserves the chunk table only; chunks are allocated as they fill (one
  // allocation per kChunk elements).
  void reserve(std::size_t n) { chunks_.reserve((n + kChunk - 1) / kChunk); }
  T& emplace_back() {
    if (size_ == chunks_.size() * kChunk) {
      // Default-initialised: T's own initialisers run once, without the
      // zero-fill that value-initialisation would add before them.
      chunks_.push_back(std::make_unique_for_overwrite<T[]>(kChunk));
    }
    return (*this)[size_++];
  }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace

class Engine::Impl {
 public:
  Impl(const EngineOptions& options, EventSink* sink)
      : options_(options),
        sink_(sink),
        record_map_(options.expected_orders),
        cl_index_(options.expected_orders) {
    records_.reserve(options.expected_orders);
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
  };

  struct Instrument {
    Instrument(InstrumentId i, Price t, Quantity m, TradingStatus s,
               std::size_t reserve)
        : id(i), tick(t), max_order_qty(m), status(s), book(reserve) {}
    InstrumentId id;
    Price tick;
    Quantity max_order_qty;
    TradingStatus status;
    OrderBook book;
    bool touched = false;  // has level changes to report this command
  };

  struct Record {
    OrderView view;
    bool in_use = false;
    bool live = false;       // resting in the book (or being executed)
    bool indexed = false;    // cl_index_ maps its (broker, ClOrdID) to it
    std::uint32_t slot = 0;  // own position in records_
    std::uint32_t next_free = IdMap::kNotFound;
    // The order's account, its broker's open-order count and (with risk
    // checks) its position, bound while the order is live (std::map nodes
    // never move).
    Account* acc = nullptr;
    std::uint32_t* broker_open = nullptr;
    Position* pos = nullptr;
  };

  // ---- helpers ----
  void Emit(EventBody body) { sink_->OnEvent(Event{header_, body}); }

  Instrument* FindInstrument(InstrumentId id) {
    auto it = instruments_.find(id.value());
    return it == instruments_.end() ? nullptr : &it->second;
  }
  const Instrument* FindInstrument(InstrumentId id) const {
    auto it = instruments_.find(id.value());
    return it == instruments_.end() ? nullptr : &it->second;
  }
  Account* FindAccount(AccountId id) {
    auto it = accounts_.find(id.value());
    return it == accounts_.end() ? nullptr : &it->second;
  }
  const Account* FindAccount(AccountId id) const {
    auto it = accounts_.find(id.value());
    return it == accounts_.end() ? nullptr : &it->second;
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

  void Touch(Instrument& ins) {
    if (options_.emit_market_data && !ins.touched) {
      ins.touched = true;
      touched_.push_back(&ins);
    }
  }
  void FlushMarketData();

  std::uint32_t AllocRecord();
  void FreeRecord(std::uint32_t slot);
  Record* RecordOf(OrderId id) {
    const std::uint32_t slot = record_map_.Find(id.value());
    return slot == IdMap::kNotFound ? nullptr : &records_[slot];
  }
  const Record* RecordOf(OrderId id) const {
    const std::uint32_t slot = record_map_.Find(id.value());
    return slot == IdMap::kNotFound ? nullptr : &records_[slot];
  }

  std::uint32_t FindByClOrdId(BrokerId broker, const ClientOrderId& cl) const {
    return FindByClOrdId(broker, cl, ClientOrderIndex::Hash(broker, cl.view()));
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
    if (cl.empty()) return false;
    const std::uint32_t slot = FindByClOrdId(broker, cl);
    return slot != ClientOrderIndex::kNotFound && records_[slot].live;
  }
  // Points (broker, ClOrdID of slot) at `slot`, taking the key over from a
  // done order that held it.
  void IndexClOrdId(std::uint32_t slot);
  void UnindexClOrdId(std::uint32_t slot);

  // The order a cancel/replace/status request addresses, or nullptr.
  Record* Lookup(BrokerId broker, const std::optional<OrderId>& order_id,
                 const ClientOrderId& cl);

  void Bind(Record& rec) {
    rec.acc = &accounts_.at(rec.view.account.value());
    rec.broker_open = &broker_open_[rec.view.broker.value()];
    if (!options_.risk_checks) return;
    rec.pos = &rec.acc->positions[rec.view.instrument.value()];
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
  // Live orders per broker id (derived, not in snapshots).
  std::map<std::uint32_t, std::uint32_t> broker_open_;

  ChunkedVector<Record> records_;
  std::uint32_t free_record_ = IdMap::kNotFound;
  IdMap record_map_;
  ClientOrderIndex cl_index_;
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
    Account& acc = accounts_[a.id.value()];
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
  records_[slot] = Record{};
  records_[slot].in_use = true;
  records_[slot].slot = slot;
  return slot;
}

void Engine::Impl::FreeRecord(std::uint32_t slot) {
  Record& rec = records_[slot];
  if (rec.indexed) UnindexClOrdId(slot);
  record_map_.Erase(rec.view.order_id.value());
  MarkDone(rec);
  rec.in_use = false;
  rec.next_free = free_record_;
  free_record_ = slot;
}

void Engine::Impl::IndexClOrdId(std::uint32_t slot) {
  Record& rec = records_[slot];
  if (rec.view.cl_ord_id.empty()) return;
  const std::uint64_t h =
      ClientOrderIndex::Hash(rec.view.broker, rec.view.cl_ord_id.view());
  const std::uint32_t previous =
      FindByClOrdId(rec.view.broker, rec.view.cl_ord_id, h);
  if (previous != ClientOrderIndex::kNotFound) UnindexClOrdId(previous);
  cl_index_.Insert(h, slot);
  rec.indexed = true;
}

void Engine::Impl::UnindexClOrdId(std::uint32_t slot) {
  Record& rec = records_[slot];
  cl_index_.Erase(
      ClientOrderIndex::Hash(rec.view.broker, rec.view.cl_ord_id.view()), slot);
  rec.indexed = false;
}

Engine::Impl::Record* Engine::Impl::Lookup(
    BrokerId broker, const std::optional<OrderId>& order_id,
    const ClientOrderId& cl) {
  if (order_id) {
    Record* rec = RecordOf(*order_id);
    if (rec == nullptr) return nullptr;
    if (broker != kOperatorBroker && rec->view.broker != broker) return nullptr;
    return rec;
  }
  if (cl.empty()) return nullptr;
  const std::uint32_t slot = FindByClOrdId(broker, cl);
  return slot == ClientOrderIndex::kNotFound ? nullptr : &records_[slot];
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
  const std::uint32_t maker_slot = record_map_.Find(fill.maker.value());
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
}

void Engine::Impl::Finish(Record& rec, Instrument& ins, OrderStatus status) {
  OrderView& v = rec.view;
  if (ins.book.Cancel(v.order_id)) Touch(ins);
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
  if (rec.view.leaves_qty.value() == 0) return;  // filled, already done
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
  ins.book.Rest(rec.view.order_id, rec.view.side, *rec.view.price,
                rec.view.leaves_qty, rec.view.account);
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
  std::sort(
      touched_.begin(), touched_.end(),
      [](const Instrument* a, const Instrument* b) { return a->id < b->id; });
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
  if (options_.risk_checks && !Entitled(broker, c.account)) {
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
  // One hash and one index lookup serve the duplicate check, the takeover
  // and the insertion below.
  const std::uint64_t cl_hash =
      c.cl_ord_id.empty() ? 0
                          : ClientOrderIndex::Hash(broker, c.cl_ord_id.view());
  const std::uint32_t same_cl =
      c.cl_ord_id.empty() ? ClientOrderIndex::kNotFound
                          : FindByClOrdId(broker, c.cl_ord_id, cl_hash);
  if (same_cl != ClientOrderIndex::kNotFound && records_[same_cl].live) {
    return reject(RejectReason::kDuplicateClientOrderId);
  }
  // Risk.
  std::optional<Cash> budget;
  if (options_.risk_checks) {
    const Position pos = PositionOrZero(*acc, c.instrument);
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
  record_map_.Insert(v.order_id.value(), slot);
  if (same_cl != ClientOrderIndex::kNotFound) UnindexClOrdId(same_cl);
  if (!v.cl_ord_id.empty()) {
    cl_index_.Insert(cl_hash, slot);
    rec.indexed = true;
  }
  Bind(rec);
  MarkLive(rec);
  ReserveFor(rec);
  Emit(OrderAccepted{v});
  Execute(slot, *ins, budget);
}

void Engine::Impl::Handle(const CancelOrder& c) {
  const BrokerId broker = header_.broker;
  auto reject = [&](RejectReason reason, const Record* rec) {
    Emit(CancelRejected{
        broker, c.cl_ord_id, c.orig_cl_ord_id, c.order_id, c.account,
        c.instrument, c.side, CancelRequestKind::kCancel, reason,
        rec != nullptr ? std::optional<OrderView>(rec->view) : std::nullopt});
  };
  Record* rec = Lookup(broker, c.order_id, c.orig_cl_ord_id);
  if (rec == nullptr || rec->view.account != c.account ||
      rec->view.instrument != c.instrument || rec->view.side != c.side) {
    return reject(RejectReason::kUnknownOrder, nullptr);
  }
  if (!rec->live) return reject(RejectReason::kTooLateToCancel, rec);
  const std::uint32_t slot = rec->slot;
  CancelLive(slot, *FindInstrument(rec->view.instrument),
             CancelReason::kRequested, c.cl_ord_id);
}

void Engine::Impl::Handle(const ReplaceOrder& c) {
  const BrokerId broker = header_.broker;
  auto reject = [&](RejectReason reason, const Record* r) {
    Emit(CancelRejected{
        broker, c.cl_ord_id, c.orig_cl_ord_id, c.order_id, c.account,
        c.instrument, c.side, CancelRequestKind::kReplace, reason,
        r != nullptr ? std::optional<OrderView>(r->view) : std::nullopt});
  };
  Record* found = Lookup(broker, c.order_id, c.orig_cl_ord_id);
  if (found == nullptr || found->view.account != c.account ||
      found->view.instrument != c.instrument || found->view.side != c.side) {
    return reject(RejectReason::kUnknownOrder, nullptr);
  }
  const std::uint32_t slot = found->slot;
  Record& rec = *found;
  OrderView& v = rec.view;
  if (v.type != OrderType::kLimit) {
    return reject(RejectReason::kReplaceNotLimit, &rec);
  }
  if (!rec.live) return reject(RejectReason::kTooLateToCancel, &rec);
  Instrument& ins = *FindInstrument(v.instrument);
  if (ins.status == TradingStatus::kHalted) {
    return reject(RejectReason::kMarketClosed, &rec);
  }
  if (c.price.value() <= 0 || c.price.value() > kMaxPrice ||
      c.price.value() % ins.tick.value() != 0) {
    return reject(RejectReason::kBadPrice, &rec);
  }
  if (c.qty.value() <= 0 || c.qty > ins.max_order_qty) {
    return reject(RejectReason::kBadQuantity, &rec);
  }
  if (!NotionalFits(c.price, c.qty)) {
    return reject(RejectReason::kBadPrice, &rec);
  }
  if (c.qty < v.cum_qty) return reject(RejectReason::kReplaceBelowFilled, &rec);
  if (!(c.cl_ord_id == v.cl_ord_id) && LiveClOrdId(v.broker, c.cl_ord_id)) {
    return reject(RejectReason::kDuplicateClientOrderId, &rec);
  }
  const Quantity old_leaves = v.leaves_qty;
  const Quantity new_leaves = c.qty - v.cum_qty;
  if (options_.risk_checks) {
    const Account& acc = *rec.acc;
    const Position& pos = *rec.pos;
    const Quantity more = new_leaves - old_leaves;
    if (v.side == Side::kSell) {
      if (more.value() > 0 && pos.held - pos.reserved < more) {
        return reject(RejectReason::kInsufficientUnits, &rec);
      }
    } else {
      const Cash extra =
          Notional(c.price, new_leaves) - Notional(*v.price, old_leaves);
      if (extra.value() > 0 && acc.cash_held - acc.cash_reserved < extra) {
        return reject(RejectReason::kInsufficientCash, &rec);
      }
      if (more.value() > 0 && acc.holding_limit &&
          pos.held + pos.pending_buys + more > *acc.holding_limit) {
        return reject(RejectReason::kHoldingLimit, &rec);
      }
    }
  }

  // Apply. Priority survives only an unchanged price and a quantity that
  // does not grow.
  const bool keep = c.price == *v.price && c.qty <= v.order_qty;
  const ClientOrderId orig = v.cl_ord_id;
  ReleaseFor(rec, old_leaves);
  if (!c.cl_ord_id.empty() && !(c.cl_ord_id == v.cl_ord_id)) {
    if (rec.indexed) UnindexClOrdId(slot);
    v.cl_ord_id = c.cl_ord_id;
    IndexClOrdId(slot);
  }
  v.price = c.price;
  v.order_qty = c.qty;
  v.leaves_qty = new_leaves;
  ReserveFor(rec);
  if (new_leaves.value() == 0) {
    // Lowered to exactly the filled quantity: nothing is left open.
    if (ins.book.Cancel(v.order_id)) Touch(ins);
    v.status = OrderStatus::kFilled;
    MarkDone(rec);
    Emit(OrderReplaced{v, orig, false});
    return;
  }
  if (keep) {
    if (new_leaves < old_leaves) {
      ins.book.ReduceOpen(v.order_id, new_leaves);
      Touch(ins);
    }
    Emit(OrderReplaced{v, orig, true});
    return;
  }
  if (ins.book.Cancel(v.order_id)) Touch(ins);
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
    const std::uint32_t slot = record_map_.Find(id);
    CancelLive(slot, *FindInstrument(records_[slot].view.instrument),
               CancelReason::kMassCancel, c.cl_ord_id);
  }
  done(static_cast<std::uint32_t>(scratch_.size()), std::nullopt);
}

void Engine::Impl::Handle(const QueryOrderStatus& c) {
  const Record* rec = Lookup(header_.broker, c.order_id, c.cl_ord_id);
  std::optional<OrderView> view;
  if (rec != nullptr && rec->view.account == c.account &&
      rec->view.instrument == c.instrument && rec->view.side == c.side) {
    view = rec->view;
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
    Record& rec = records_[record_map_.Find(id)];
    Finish(rec, *FindInstrument(rec.view.instrument), OrderStatus::kExpired);
    Emit(OrderExpired{rec.view});
  }
  // The day is over: done orders are no longer reported.
  for (std::size_t slot = 0; slot < records_.size(); ++slot) {
    if (records_[slot].in_use && !records_[slot].live) {
      FreeRecord(static_cast<std::uint32_t>(slot));
    }
  }
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
  Account& acc = accounts_[c.account.value()];
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
  const Record* rec = RecordOf(id);
  if (rec == nullptr) return std::nullopt;
  return rec->view;
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
    ins.book.ForEachResting(
        [&](OrderId oid, Side side, Price price, Quantity open) {
          if (!error.empty()) return;
          const Record* rec = RecordOf(oid);
          if (rec == nullptr || !rec->live || rec->view.instrument != ins.id ||
              rec->view.side != side || rec->view.price != price ||
              rec->view.leaves_qty != open ||
              ins.book.Find(oid)->owner != rec->view.account) {
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
    if (record_map_.Find(v.order_id.value()) != slot) {
      return fail(what + " missing from the order map");
    }
    if (v.order_id.value() >= next_order_id_) {
      return fail(what + " not below the next order id");
    }
    if (v.cum_qty + v.leaves_qty > v.order_qty || v.cum_qty.value() < 0 ||
        v.leaves_qty.value() < 0) {
      return fail(what + " quantities do not add up");
    }
    if (rec.indexed) {
      ++indexed;
      if (FindByClOrdId(v.broker, v.cl_ord_id) != slot) {
        return fail(what + " ClOrdID index entry broken");
      }
    }
    if (rec.live) {
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
    } else if (v.leaves_qty.value() != 0) {
      return fail(what + " is done with leaves > 0");
    }
  }
  if (live != resting) {
    return fail(std::to_string(live) + " live orders but " +
                std::to_string(resting) + " resting");
  }
  if (in_use != record_map_.size() || indexed != cl_index_.size()) {
    return fail("order map or ClOrdID index size disagrees with records");
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
  // Orders (live and done of the day) in ascending id.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> ids;
  ids.reserve(record_map_.size());
  for (std::size_t slot = 0; slot < records_.size(); ++slot) {
    if (records_[slot].in_use) {
      ids.emplace_back(records_[slot].view.order_id.value(),
                       static_cast<std::uint32_t>(slot));
    }
  }
  std::sort(ids.begin(), ids.end());
  w.U32(static_cast<std::uint32_t>(ids.size()));
  for (const auto& [id, slot] : ids) {
    const Record& rec = records_[slot];
    const OrderView& v = rec.view;
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
    w.U8(static_cast<std::uint8_t>((rec.live ? 1 : 0) | (rec.indexed ? 2 : 0)));
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
    Account& acc = accounts_[id];
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
  }
  const std::uint32_t n_orders = r.U32();
  if (!r.ok()) return corrupt("truncated");
  // Every order takes at least 67 bytes (with an empty ClOrdID): reject
  // absurd counts before allocating for them.
  if (n_orders > r.remaining() / 67) return corrupt("bad order count");
  for (std::uint32_t i = 0; i < n_orders && r.ok(); ++i) {
    const std::uint32_t slot = AllocRecord();
    Record& rec = records_[slot];
    OrderView& v = rec.view;
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
    if ((flags & 1U) != 0) {
      if (FindAccount(v.account) == nullptr) {
        return corrupt("bad order " + std::to_string(v.order_id.value()));
      }
      Bind(rec);
      MarkLive(rec);
    }
    if (!ValidSide(v.side) || !ValidType(v.type) || !ValidTif(v.tif) ||
        FindInstrument(v.instrument) == nullptr ||
        FindAccount(v.account) == nullptr ||
        (v.type == OrderType::kLimit && (!v.price || price.value() <= 0)) ||
        v.order_id.value() == IdMap::kEmptyKey ||
        !record_map_.Insert(v.order_id.value(), slot)) {
      return corrupt("bad order " + std::to_string(v.order_id.value()));
    }
    if ((flags & 2U) != 0) {
      if (v.cl_ord_id.empty() ||
          FindByClOrdId(v.broker, v.cl_ord_id) != ClientOrderIndex::kNotFound) {
        return corrupt("bad ClOrdID index flag");
      }
      IndexClOrdId(slot);
    }
  }
  for (std::uint32_t i = 0; i < n_instruments && r.ok(); ++i) {
    Instrument* ins = FindInstrument(InstrumentId{r.U32()});
    if (ins == nullptr) return corrupt("book of unknown instrument");
    const std::uint32_t n = r.U32();
    for (std::uint32_t k = 0; k < n && r.ok(); ++k) {
      const Record* rec = RecordOf(OrderId{r.U64()});
      if (rec == nullptr || !rec->live || rec->view.instrument != ins->id ||
          !ins->book.Rest(rec->view.order_id, rec->view.side, *rec->view.price,
                          rec->view.leaves_qty, rec->view.account)) {
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
