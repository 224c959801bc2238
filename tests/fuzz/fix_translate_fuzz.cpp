// libFuzzer target for the gateway's inbound path: raw bytes are parsed as a
// FIX message with the gateway's data dictionary and validated, exactly as
// the server's QuickFIX sessions do (UseDataDictionary=Y), and whatever
// passes is translated as carbonex-server's HandleApp would.
//
// Findings: a crash or sanitizer report; an exception other than QuickFIX's
// own (the session turns those into session-level rejects); a translation
// that is not exactly one of command or reply; a command that does not
// survive the journal's encoding (the sequencer journals every command).
//
//   scripts/fuzz 60    or    build-asan/bin/fix_translate_fuzz DIR
#include <quickfix/DataDictionary.h>
#include <quickfix/Exceptions.h>
#include <quickfix/Message.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "carbonex/gateway/command_codec.h"
#include "carbonex/gateway/fix_translate.h"
#include "carbonex/gateway/name_tables.h"

namespace {

using carbonex::gateway::NameTables;

const FIX::DataDictionary& Dictionary() {
  static const FIX::DataDictionary kDictionary(CARBONEX_FIX_DICTIONARY);
  return kDictionary;
}

// Two instruments (one open, one halted), two accounts, two brokers: enough
// for every branch of the name look-ups.
const NameTables& Tables() {
  static const NameTables kTables = [] {
    carbonex::AccountState state;
    state.instruments.push_back(
        {carbonex::InstrumentId(1), "KZQ-2026", carbonex::Price(1),
         carbonex::Quantity(1'000'000), carbonex::TradingStatus::kOpen});
    state.instruments.push_back({carbonex::InstrumentId(2), "KZO-2025",
                                 carbonex::Price(5), carbonex::Quantity(1000),
                                 carbonex::TradingStatus::kHalted});
    state.accounts.push_back(
        {carbonex::AccountId(7), "KZ-OP-0007", carbonex::Cash(0), {}});
    state.accounts.push_back(
        {carbonex::AccountId(8), "KZ-OP-0008", carbonex::Cash(500), {}});
    state.brokers.push_back({carbonex::BrokerId(3), "BRK1", false});
    state.brokers.push_back({carbonex::BrokerId(4), "BRK2", true});
    return NameTables(state);
  }();
  return kTables;
}

// The journal must take every command the gateway produces: encode, decode,
// encode again gives the same bytes.
void CheckJournals(const carbonex::engine::CommandBody& body) {
  carbonex::engine::Command command;
  command.body = body;
  std::vector<std::uint8_t> bytes;
  carbonex::gateway::EncodeCommand(command, &bytes);
  const auto decoded = carbonex::gateway::DecodeCommand(
      std::span<const std::uint8_t>(bytes.data(), bytes.size()));
  if (!decoded.ok()) {
    std::abort();
  }
  std::vector<std::uint8_t> again;
  carbonex::gateway::EncodeCommand(*decoded, &again);
  if (again != bytes) {
    std::abort();
  }
}

void Translate(const FIX::Message& message) {
  using namespace carbonex::gateway;  // NOLINT(google-build-using-namespace)
  static ExecIdSource exec_ids(1);
  const carbonex::Timestamp now(1'767'261'600'000'000'000);
  const std::string& type = message.getHeader().getField(35);
  Translation t;
  if (type == "D") {
    t = TranslateNewOrder(message, Tables(), exec_ids, now);
  } else if (type == "F") {
    t = TranslateCancel(message, Tables(), now);
  } else if (type == "G") {
    t = TranslateReplace(message, Tables(), now);
  } else if (type == "H") {
    t = TranslateStatusRequest(message, Tables(), exec_ids, now);
  } else if (type == "q") {
    t = TranslateMassCancel(message, Tables(), now);
  } else if (type == "V") {
    const MarketDataTranslation md =
        TranslateMarketDataRequest(message, Tables());
    if (md.request.has_value() == md.reply.has_value()) {
      std::abort();
    }
    return;
  } else if (type == "x") {
    const FIX::Message list = SecurityListFor(message, Tables());
    (void)list.toString();
    return;
  } else {
    return;  // the server answers UnsupportedMessageType
  }
  if (t.command.has_value() == t.reply.has_value()) {
    std::abort();
  }
  if (t.command) {
    CheckJournals(*t.command);
  } else {
    (void)t.reply->toString();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  FIX::Message message;
  try {
    message = FIX::Message(text, Dictionary(), true);
    Dictionary().validate(message);
  } catch (const FIX::Exception&) {
    return 0;  // QuickFIX rejects it before the application sees it
  }
  try {
    Translate(message);
  } catch (const FIX::FieldNotFound&) {
    // fromApp rethrows these to QuickFIX, which sends a reject.
  } catch (const FIX::IncorrectDataFormat&) {
  } catch (const FIX::IncorrectTagValue&) {
  }
  return 0;
}
