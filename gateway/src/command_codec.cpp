// Payload codec for journal records; the layout is in docs/journal.md.
#include "carbonex/gateway/command_codec.h"

#include <array>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace carbonex::gateway {
namespace {

using engine::Command;

// Record types. Never renumber: they are on disk. Deliberately independent of
// the order of alternatives in engine::CommandBody.
enum class RecordType : std::uint8_t {
  kPlaceOrder = 1,
  kCancelOrder = 2,
  kReplaceOrder = 3,
  kMassCancel = 4,
  kQueryOrderStatus = 5,
  kExpireDayOrders = 6,
  kAdjustUnits = 7,
  kAdjustCash = 8,
  kAddInstrument = 9,
  kAddAccount = 10,
  kSetEntitlement = 11,
  kSetTradingStatus = 12,
};

template <typename T>
constexpr RecordType TypeOf();
template <>
constexpr RecordType TypeOf<engine::PlaceOrder>() {
  return RecordType::kPlaceOrder;
}
template <>
constexpr RecordType TypeOf<engine::CancelOrder>() {
  return RecordType::kCancelOrder;
}
template <>
constexpr RecordType TypeOf<engine::ReplaceOrder>() {
  return RecordType::kReplaceOrder;
}
template <>
constexpr RecordType TypeOf<engine::MassCancel>() {
  return RecordType::kMassCancel;
}
template <>
constexpr RecordType TypeOf<engine::QueryOrderStatus>() {
  return RecordType::kQueryOrderStatus;
}
template <>
constexpr RecordType TypeOf<engine::ExpireDayOrders>() {
  return RecordType::kExpireDayOrders;
}
template <>
constexpr RecordType TypeOf<engine::AdjustUnits>() {
  return RecordType::kAdjustUnits;
}
template <>
constexpr RecordType TypeOf<engine::AdjustCash>() {
  return RecordType::kAdjustCash;
}
template <>
constexpr RecordType TypeOf<engine::AddInstrument>() {
  return RecordType::kAddInstrument;
}
template <>
constexpr RecordType TypeOf<engine::AddAccount>() {
  return RecordType::kAddAccount;
}
template <>
constexpr RecordType TypeOf<engine::SetEntitlement>() {
  return RecordType::kSetEntitlement;
}
template <>
constexpr RecordType TypeOf<engine::SetTradingStatus>() {
  return RecordType::kSetTradingStatus;
}

// Appends little-endian fields to a byte vector.
class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>* out) : out_(out) {}

  void U8(std::uint8_t v) { out_->push_back(v); }
  void U32(std::uint32_t v) { Le(v); }
  void U64(std::uint64_t v) { Le(v); }
  void I64(std::int64_t v) { Le(static_cast<std::uint64_t>(v)); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void ClOrdId(const ClientOrderId& id) {
    const std::string_view text = id.view();
    U8(static_cast<std::uint8_t>(text.size()));
    for (const char c : text) {
      U8(static_cast<std::uint8_t>(c));
    }
  }
  template <typename T, typename PutValue>
  void Optional(const std::optional<T>& v, PutValue put) {
    Bool(v.has_value());
    if (v) {
      put(*v);
    }
  }

 private:
  template <typename U>
  void Le(U v) {
    std::array<std::uint8_t, sizeof(U)> bytes{};
    for (std::size_t i = 0; i < sizeof(U); ++i) {
      bytes[i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    out_->insert(out_->end(), bytes.begin(), bytes.end());
  }

  std::vector<std::uint8_t>* out_;
};

// Reads little-endian fields; the first failure sticks and later reads
// return zero values, so decoders read straight through and check once.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  std::uint8_t U8() { return static_cast<std::uint8_t>(Le(1)); }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Le(4)); }
  std::uint64_t U64() { return Le(8); }
  std::int64_t I64() { return static_cast<std::int64_t>(Le(8)); }
  bool Bool() {
    const std::uint8_t v = U8();
    if (v > 1) {
      Fail("flag byte " + std::to_string(v) + " is neither 0 nor 1");
    }
    return v == 1;
  }
  ClientOrderId ClOrdId() {
    const std::size_t size = U8();
    if (size > ClientOrderId::kMaxLength) {
      Fail("client order id of " + std::to_string(size) + " bytes (max " +
           std::to_string(ClientOrderId::kMaxLength) + ")");
      return {};
    }
    if (!Need(size)) {
      return {};
    }
    std::array<char, ClientOrderId::kMaxLength> text{};
    for (std::size_t i = 0; i < size; ++i) {
      text[i] = static_cast<char>(bytes_[pos_ + i]);
    }
    pos_ += size;
    return ClientOrderId(std::string_view(text.data(), size));
  }
  Side ReadSide() {
    const std::uint8_t v = U8();
    if (v != 1 && v != 2) {
      Fail("side " + std::to_string(v));
    }
    return v == 2 ? Side::kSell : Side::kBuy;
  }
  engine::OrderType ReadOrderType() {
    const std::uint8_t v = U8();
    if (v != 1 && v != 2) {
      Fail("order type " + std::to_string(v));
    }
    return v == 1 ? engine::OrderType::kMarket : engine::OrderType::kLimit;
  }
  engine::TimeInForce ReadTif() {
    const std::uint8_t v = U8();
    switch (v) {
      case 0:
        return engine::TimeInForce::kDay;
      case 1:
        return engine::TimeInForce::kGtc;
      case 3:
        return engine::TimeInForce::kIoc;
      case 4:
        return engine::TimeInForce::kFok;
      default:
        Fail("time in force " + std::to_string(v));
        return engine::TimeInForce::kDay;
    }
  }
  engine::MassCancelScope ReadScope() {
    const std::uint8_t v = U8();
    switch (v) {
      case 1:
        return engine::MassCancelScope::kInstrument;
      case 7:
        return engine::MassCancelScope::kBroker;
      case 100:
        return engine::MassCancelScope::kAccount;
      default:
        Fail("mass cancel scope " + std::to_string(v));
        return engine::MassCancelScope::kBroker;
    }
  }
  TradingStatus ReadTradingStatus() {
    const std::uint8_t v = U8();
    if (v > 1) {
      Fail("trading status " + std::to_string(v));
    }
    return v == 1 ? TradingStatus::kHalted : TradingStatus::kOpen;
  }
  template <typename T, typename GetValue>
  std::optional<T> Optional(GetValue get) {
    if (!Bool()) {
      return std::nullopt;
    }
    return T(get());
  }

  void Fail(std::string why) {
    if (error_.empty()) {
      error_ = std::move(why);
    }
  }
  [[nodiscard]] bool Failed() const { return !error_.empty(); }
  [[nodiscard]] const std::string& Error() const { return error_; }
  [[nodiscard]] std::size_t Remaining() const { return bytes_.size() - pos_; }
  [[nodiscard]] std::size_t Pos() const { return pos_; }

 private:
  bool Need(std::size_t n) {
    if (Failed()) {
      return false;
    }
    if (Remaining() < n) {
      Fail("truncated at byte " + std::to_string(pos_) + " (need " +
           std::to_string(n) + " more, have " + std::to_string(Remaining()) +
           ")");
      return false;
    }
    return true;
  }
  std::uint64_t Le(std::size_t n) {
    if (!Need(n)) {
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v |= std::uint64_t{bytes_[pos_ + i]} << (8 * i);
    }
    pos_ += n;
    return v;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::string error_;
};

void EncodeBody(const engine::PlaceOrder& b, Writer& w) {
  w.ClOrdId(b.cl_ord_id);
  w.U32(b.account.value());
  w.U32(b.instrument.value());
  w.U8(static_cast<std::uint8_t>(b.side));
  w.U8(static_cast<std::uint8_t>(b.type));
  w.Optional(b.price, [&](Price p) { w.I64(p.value()); });
  w.I64(b.qty.value());
  w.U8(static_cast<std::uint8_t>(b.tif));
}
void EncodeBody(const engine::CancelOrder& b, Writer& w) {
  w.ClOrdId(b.cl_ord_id);
  w.ClOrdId(b.orig_cl_ord_id);
  w.Optional(b.order_id, [&](OrderId id) { w.U64(id.value()); });
  w.U32(b.account.value());
  w.U32(b.instrument.value());
  w.U8(static_cast<std::uint8_t>(b.side));
}
void EncodeBody(const engine::ReplaceOrder& b, Writer& w) {
  w.ClOrdId(b.cl_ord_id);
  w.ClOrdId(b.orig_cl_ord_id);
  w.Optional(b.order_id, [&](OrderId id) { w.U64(id.value()); });
  w.U32(b.account.value());
  w.U32(b.instrument.value());
  w.U8(static_cast<std::uint8_t>(b.side));
  w.I64(b.price.value());
  w.I64(b.qty.value());
}
void EncodeBody(const engine::MassCancel& b, Writer& w) {
  w.ClOrdId(b.cl_ord_id);
  w.U8(static_cast<std::uint8_t>(b.scope));
  w.Optional(b.account, [&](AccountId id) { w.U32(id.value()); });
  w.Optional(b.instrument, [&](InstrumentId id) { w.U32(id.value()); });
  w.Bool(b.day_orders_only);
}
void EncodeBody(const engine::QueryOrderStatus& b, Writer& w) {
  w.ClOrdId(b.cl_ord_id);
  w.Optional(b.order_id, [&](OrderId id) { w.U64(id.value()); });
  w.U32(b.account.value());
  w.U32(b.instrument.value());
  w.U8(static_cast<std::uint8_t>(b.side));
}
void EncodeBody(const engine::ExpireDayOrders& /*b*/, Writer& /*w*/) {}
void EncodeBody(const engine::AdjustUnits& b, Writer& w) {
  w.U32(b.account.value());
  w.U32(b.instrument.value());
  w.I64(b.delta.value());
}
void EncodeBody(const engine::AdjustCash& b, Writer& w) {
  w.U32(b.account.value());
  w.I64(b.delta.value());
}
void EncodeBody(const engine::AddInstrument& b, Writer& w) {
  w.U32(b.instrument.value());
  w.I64(b.tick.value());
  w.I64(b.max_order_qty.value());
  w.U8(static_cast<std::uint8_t>(b.status));
}
void EncodeBody(const engine::AddAccount& b, Writer& w) {
  w.U32(b.account.value());
  w.Optional(b.holding_limit, [&](Quantity q) { w.I64(q.value()); });
}
void EncodeBody(const engine::SetEntitlement& b, Writer& w) {
  w.U32(b.broker.value());
  w.U32(b.account.value());
  w.Bool(b.entitled);
}
void EncodeBody(const engine::SetTradingStatus& b, Writer& w) {
  w.U32(b.instrument.value());
  w.U8(static_cast<std::uint8_t>(b.status));
}

// Decoders for version 1 of each type. A later version appends fields: its
// decoder reads these first, then the new ones when version >= 2.
engine::CommandBody DecodePlaceOrder(Reader& r) {
  engine::PlaceOrder b;
  b.cl_ord_id = r.ClOrdId();
  b.account = AccountId(r.U32());
  b.instrument = InstrumentId(r.U32());
  b.side = r.ReadSide();
  b.type = r.ReadOrderType();
  b.price = r.Optional<Price>([&] { return r.I64(); });
  b.qty = Quantity(r.I64());
  b.tif = r.ReadTif();
  return b;
}
engine::CommandBody DecodeCancelOrder(Reader& r) {
  engine::CancelOrder b;
  b.cl_ord_id = r.ClOrdId();
  b.orig_cl_ord_id = r.ClOrdId();
  b.order_id = r.Optional<OrderId>([&] { return r.U64(); });
  b.account = AccountId(r.U32());
  b.instrument = InstrumentId(r.U32());
  b.side = r.ReadSide();
  return b;
}
engine::CommandBody DecodeReplaceOrder(Reader& r) {
  engine::ReplaceOrder b;
  b.cl_ord_id = r.ClOrdId();
  b.orig_cl_ord_id = r.ClOrdId();
  b.order_id = r.Optional<OrderId>([&] { return r.U64(); });
  b.account = AccountId(r.U32());
  b.instrument = InstrumentId(r.U32());
  b.side = r.ReadSide();
  b.price = Price(r.I64());
  b.qty = Quantity(r.I64());
  return b;
}
engine::CommandBody DecodeMassCancel(Reader& r) {
  engine::MassCancel b;
  b.cl_ord_id = r.ClOrdId();
  b.scope = r.ReadScope();
  b.account = r.Optional<AccountId>([&] { return r.U32(); });
  b.instrument = r.Optional<InstrumentId>([&] { return r.U32(); });
  b.day_orders_only = r.Bool();
  return b;
}
engine::CommandBody DecodeQueryOrderStatus(Reader& r) {
  engine::QueryOrderStatus b;
  b.cl_ord_id = r.ClOrdId();
  b.order_id = r.Optional<OrderId>([&] { return r.U64(); });
  b.account = AccountId(r.U32());
  b.instrument = InstrumentId(r.U32());
  b.side = r.ReadSide();
  return b;
}
engine::CommandBody DecodeAdjustUnits(Reader& r) {
  engine::AdjustUnits b;
  b.account = AccountId(r.U32());
  b.instrument = InstrumentId(r.U32());
  b.delta = Quantity(r.I64());
  return b;
}
engine::CommandBody DecodeAdjustCash(Reader& r) {
  engine::AdjustCash b;
  b.account = AccountId(r.U32());
  b.delta = Cash(r.I64());
  return b;
}
engine::CommandBody DecodeAddInstrument(Reader& r) {
  engine::AddInstrument b;
  b.instrument = InstrumentId(r.U32());
  b.tick = Price(r.I64());
  b.max_order_qty = Quantity(r.I64());
  b.status = r.ReadTradingStatus();
  return b;
}
engine::CommandBody DecodeAddAccount(Reader& r) {
  engine::AddAccount b;
  b.account = AccountId(r.U32());
  b.holding_limit = r.Optional<Quantity>([&] { return r.I64(); });
  return b;
}
engine::CommandBody DecodeSetEntitlement(Reader& r) {
  engine::SetEntitlement b;
  b.broker = BrokerId(r.U32());
  b.account = AccountId(r.U32());
  b.entitled = r.Bool();
  return b;
}
engine::CommandBody DecodeSetTradingStatus(Reader& r) {
  engine::SetTradingStatus b;
  b.instrument = InstrumentId(r.U32());
  b.status = r.ReadTradingStatus();
  return b;
}

}  // namespace

std::size_t EncodeCommand(const Command& cmd, std::vector<std::uint8_t>* out) {
  const std::size_t start = out->size();
  Writer w(out);
  std::visit(
      [&](const auto& body) {
        using Body = std::decay_t<decltype(body)>;
        w.U8(static_cast<std::uint8_t>(TypeOf<Body>()));
        w.U8(kCommandCodecVersion);
        w.U64(cmd.header.seq.value());
        w.I64(cmd.header.time.value());
        w.U32(cmd.header.broker.value());
        EncodeBody(body, w);
      },
      cmd.body);
  return out->size() - start;
}

Result<Command> DecodeCommand(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  const std::uint8_t type = r.U8();
  const std::uint8_t version = r.U8();
  if (r.Failed()) {
    return Status::Corruption("command payload: " + r.Error());
  }
  if (version == 0 || version > kCommandCodecVersion) {
    return Status::Corruption("command payload: unknown version " +
                              std::to_string(version) + " of record type " +
                              std::to_string(type) +
                              " (this build reads up to " +
                              std::to_string(kCommandCodecVersion) + ")");
  }
  Command cmd;
  cmd.header.seq = SequenceNumber(r.U64());
  cmd.header.time = Timestamp(r.I64());
  cmd.header.broker = BrokerId(r.U32());
  switch (static_cast<RecordType>(type)) {
    case RecordType::kPlaceOrder:
      cmd.body = DecodePlaceOrder(r);
      break;
    case RecordType::kCancelOrder:
      cmd.body = DecodeCancelOrder(r);
      break;
    case RecordType::kReplaceOrder:
      cmd.body = DecodeReplaceOrder(r);
      break;
    case RecordType::kMassCancel:
      cmd.body = DecodeMassCancel(r);
      break;
    case RecordType::kQueryOrderStatus:
      cmd.body = DecodeQueryOrderStatus(r);
      break;
    case RecordType::kExpireDayOrders:
      cmd.body = engine::ExpireDayOrders{};
      break;
    case RecordType::kAdjustUnits:
      cmd.body = DecodeAdjustUnits(r);
      break;
    case RecordType::kAdjustCash:
      cmd.body = DecodeAdjustCash(r);
      break;
    case RecordType::kAddInstrument:
      cmd.body = DecodeAddInstrument(r);
      break;
    case RecordType::kAddAccount:
      cmd.body = DecodeAddAccount(r);
      break;
    case RecordType::kSetEntitlement:
      cmd.body = DecodeSetEntitlement(r);
      break;
    case RecordType::kSetTradingStatus:
      cmd.body = DecodeSetTradingStatus(r);
      break;
    default:
      return Status::Corruption("command payload: unknown record type " +
                                std::to_string(type));
  }
  if (r.Failed()) {
    return Status::Corruption("command payload (record type " +
                              std::to_string(type) + "): " + r.Error());
  }
  if (r.Remaining() != 0) {
    return Status::Corruption("command payload (record type " +
                              std::to_string(type) +
                              "): " + std::to_string(r.Remaining()) +
                              " bytes left over after the last field");
  }
  return cmd;
}

}  // namespace carbonex::gateway
