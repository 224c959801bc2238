// FIX 4.4 ↔ engine translation: the pure functions of the gateway.
//
// Inbound: one application message of a broker (already validated against
// the gateway's data dictionary by QuickFIX, so required tags are present and
// numeric fields are numbers) becomes either an engine command or, when its
// values cannot be expressed as a command (unknown symbol, ClOrdID longer
// than 31 characters, a fractional quantity, …), the reject to send back
// at once. Checks that need the engine's state (ticks, limits, risk,
// entitlements, duplicate ClOrdIDs) are left to the engine.
//
// Outbound: engine events become execution reports, cancel rejects, mass
// cancel reports and market data messages, exactly as
// docs/fix-rules-of-engagement.md describes.
//
// Prices on the wire are KZT with up to two decimals; internally tiyn.
// Quantities are whole units. Conversions are exact (no floating point).
//
// Thread-safety: every function is reentrant; ExecIdSource is thread-safe.
#ifndef CARBONEX_GATEWAY_FIX_TRANSLATE_H_
#define CARBONEX_GATEWAY_FIX_TRANSLATE_H_

#include <quickfix/Message.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/types.h"
#include "carbonex/engine/engine.h"
#include "carbonex/engine/events.h"
#include "carbonex/gateway/fix_writer.h"
#include "carbonex/gateway/name_tables.h"

namespace carbonex::gateway {

// ---- Exact decimals ----

// "12.34" with scale 2 → 1234. Accepts an optional sign, digits, an optional
// '.' and digits; more significant decimals than `scale` (e.g. "1.005" at
// scale 2) or anything else → nullopt. Trailing zeros are fine ("1.50").
[[nodiscard]] std::optional<std::int64_t> ParseDecimal(std::string_view text,
                                                       int scale);
// Price(44) text → tiyn.
[[nodiscard]] std::optional<Price> ParsePrice(std::string_view text);
// OrderQty(38) text → whole units ("10", "10.0"; not "1.5").
[[nodiscard]] std::optional<Quantity> ParseQuantity(std::string_view text);
// tiyn → "123.45".
[[nodiscard]] std::string FormatPrice(Price price);
// AvgPx(6): notional (tiyn) / qty / 100 exactly when the decimal terminates
// within 12 places, else rounded half up to 10 places. "0" when qty is 0.
[[nodiscard]] std::string FormatAveragePrice(Cash notional, Quantity qty);
// "YYYYMMDD-HH:MM:SS.mmm" (UTC).
[[nodiscard]] std::string FormatUtcTimestamp(Timestamp time);

// ExecIDs of reports the gateway itself sends (rejects of messages that
// never reached the engine): "G<start>-<n>", where start is the server's
// start time in ns, so they never collide with the engine's "<seq>-<index>"
// nor with those of an earlier run.
class ExecIdSource {
 public:
  explicit ExecIdSource(std::int64_t start_ns) : start_ns_(start_ns) {}
  [[nodiscard]] std::string Next();

 private:
  std::int64_t start_ns_;
  std::atomic<std::uint64_t> next_{1};
};

// The ExecID of the index-th event of the command with sequence number seq.
[[nodiscard]] std::string EngineExecId(SequenceNumber seq, std::uint32_t index);

// ---- Inbound ----

// What one inbound message becomes: a command for the sequencer, or a reply
// to send at once (never both).
struct Translation {
  std::optional<engine::CommandBody> command;
  std::optional<FIX::Message> reply;
};

// NewOrderSingle (D), OrderCancelRequest (F), OrderCancelReplaceRequest (G),
// OrderStatusRequest (H), OrderMassCancelRequest (q). `now` stamps the
// TransactTime of immediate replies.
[[nodiscard]] Translation TranslateNewOrder(const FIX::Message& message,
                                            const NameTables& tables,
                                            ExecIdSource& exec_ids,
                                            Timestamp now);
[[nodiscard]] Translation TranslateCancel(const FIX::Message& message,
                                          const NameTables& tables,
                                          Timestamp now);
[[nodiscard]] Translation TranslateReplace(const FIX::Message& message,
                                           const NameTables& tables,
                                           Timestamp now);
[[nodiscard]] Translation TranslateStatusRequest(const FIX::Message& message,
                                                 const NameTables& tables,
                                                 ExecIdSource& exec_ids,
                                                 Timestamp now);
[[nodiscard]] Translation TranslateMassCancel(const FIX::Message& message,
                                              const NameTables& tables,
                                              Timestamp now);

// The answer to a NewOrderSingle (D) or OrderCancelReplaceRequest (G) that
// the gateway refuses whatever its values, for an exchange-wide reason
// (`text`, e.g. settlement stalled): for D an ExecutionReport Rejected with
// OrdRejReason 99, for G an OrderCancelReject with CxlRejReason 99 and
// CxlRejResponseTo 2. Precondition: `message` is a D or a G.
[[nodiscard]] FIX::Message RefusalFor(const FIX::Message& message,
                                      std::string_view text,
                                      ExecIdSource& exec_ids, Timestamp now);

// A MarketDataRequest (V), decoded.
struct MarketDataRequest {
  std::string md_req_id;
  char subscription = '0';  // '0' snapshot, '1' subscribe, '2' unsubscribe
  std::size_t depth = 0;    // 0 = full book
  bool bids = false;
  bool offers = false;
  bool trades = false;
  std::vector<std::string> symbols;
};
// Fails (returns the MarketDataRequestReject to send) on an unknown symbol,
// an unsupported SubscriptionRequestType or MDEntryType.
struct MarketDataTranslation {
  std::optional<MarketDataRequest> request;
  std::optional<FIX::Message> reply;
};
[[nodiscard]] MarketDataTranslation TranslateMarketDataRequest(
    const FIX::Message& message, const NameTables& tables);

// SecurityListRequest (x) → SecurityList (y): every open instrument for
// type 4 (all) or the one symbol for type 0; SecurityRequestResult 2 (no
// instruments found) for an unknown symbol, 1 (invalid request) otherwise.
[[nodiscard]] FIX::Message SecurityListFor(const FIX::Message& request,
                                           const NameTables& tables);

// ---- Outbound ----

// The broker an event is reported to; nullopt for events no broker
// receives (TradeExecuted, BookLevelChanged, operator results) and for
// operator-originated orders' events.
[[nodiscard]] std::optional<BrokerId> RecipientOf(const engine::Event& event);

// The message that reports `event` to its broker; nullopt when it has none.
// `index` is the event's position among its command's events.
[[nodiscard]] std::optional<FIX::Message> BrokerMessageFor(
    const engine::Event& event, std::uint32_t index, const NameTables& tables);

// The same message written straight into its wire form: appends its body
// fields to `writer` and returns its MsgType ("8", "9" or "r"); nullptr, with
// nothing appended, when BrokerMessageFor returns nullopt. The body is what
// BrokerMessageFor's message serialises to between its header and trailer.
[[nodiscard]] const char* WriteBrokerMessage(const engine::Event& event,
                                             std::uint32_t index,
                                             const NameTables& tables,
                                             FixBodyWriter* writer);

// MarketDataSnapshotFullRefresh (W) of one book.
[[nodiscard]] FIX::Message MarketDataSnapshot(
    const MarketDataRequest& request, std::string_view symbol,
    const engine::DepthSnapshot& depth);

// MarketDataIncrementalRefresh (X) for one level change or one trade;
// nullopt when the subscription does not ask for that entry type.
// `level_action` is the MDUpdateAction(279) of a level change: '0' new (the
// level did not exist), '1' change, '2' delete (order_count 0); the caller
// tracks which levels exist.
[[nodiscard]] std::optional<FIX::Message> MarketDataIncrement(
    const MarketDataRequest& request, const engine::Event& event,
    const NameTables& tables, char level_action);

// Texts for reasons, as they appear in Text(58).
[[nodiscard]] std::string_view RejectText(engine::RejectReason reason);
[[nodiscard]] std::string_view CancelText(engine::CancelReason reason);
// OrdRejReason(103) and CxlRejReason(102) codes of the contract.
[[nodiscard]] int OrdRejReasonCode(engine::RejectReason reason);
[[nodiscard]] int CxlRejReasonCode(engine::RejectReason reason);

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_FIX_TRANSLATE_H_
