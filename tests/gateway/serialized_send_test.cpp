// SendSerialized against a real QuickFIX session: what it writes, numbers
// and stores is what Session::send does with a FIX::Message of the same
// fields.
#define CATCH_CONFIG_MAIN
#include <quickfix/Application.h>
#include <quickfix/DataDictionaryProvider.h>
#include <quickfix/Exceptions.h>
#include <quickfix/FieldConvertors.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "carbonex/gateway/fix_writer.h"

// QuickFIX's Application and MessageStore interfaces use dynamic exception
// specifications, which C++17 removed; clang accepts them as an extension.
#pragma clang diagnostic ignored "-Wdynamic-exception-spec"

namespace carbonex::gateway {
namespace {

const FIX::SessionID kSession("FIX.4.4", "CARBONEX", "BRK1");

class QuietApplication : public FIX::Application {
 public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {}
  void onLogout(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&,
             const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message&,
                 const FIX::SessionID&) throw(FIX::FieldNotFound,
                                              FIX::IncorrectDataFormat,
                                              FIX::IncorrectTagValue,
                                              FIX::RejectLogon) override {}
  void fromApp(const FIX::Message&, const FIX::SessionID&) throw(
      FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
      FIX::UnsupportedMessageType) override {}
};

// A memory store whose writes can be made to fail.
class FailingStore : public FIX::MemoryStore {
 public:
  explicit FailingStore(const bool& fail) : fail_(fail) {}
  bool set(int seq,
           const std::string& message) throw(FIX::IOException) override {
    if (fail_) throw FIX::IOException("disk on fire");
    return FIX::MemoryStore::set(seq, message);
  }

 private:
  const bool& fail_;
};

class FailingStoreFactory : public FIX::MessageStoreFactory {
 public:
  FIX::MessageStore* create(const FIX::SessionID&) override {
    return new FailingStore(fail);
  }
  void destroy(FIX::MessageStore* store) override { delete store; }
  bool fail = false;
};

class RecordingResponder : public FIX::Responder {
 public:
  bool send(const std::string& bytes) override {
    writes.push_back(bytes);
    return true;
  }
  void disconnect() override {}
  std::vector<std::string> writes;
};

std::string Wire(std::string text) {
  for (char& c : text) {
    if (c == '|') c = '\x01';
  }
  return text;
}

// A message as the broker would send it (header, body, trailer).
std::string FromBroker(int seq, std::string_view msg_type,
                       std::string_view body) {
  std::string out;
  const std::string now =
      FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3);
  FrameFixMessage({.begin_string = "FIX.4.4",
                   .msg_seq_num = seq,
                   .sender_comp_id = "BRK1",
                   .sending_time = now,
                   .target_comp_id = "CARBONEX"},
                  msg_type, Wire(std::string(body)), &out);
  return out;
}

// An acceptor session with the gateway's dictionary, logged on when asked.
struct Fixture {
  Fixture() {
    provider.addTransportDataDictionary(kSession.getBeginString(),
                                        CARBONEX_FIX_DICTIONARY);
    session = std::make_unique<FIX::Session>(
        application, stores, kSession, provider,
        FIX::TimeRange(FIX::UtcTimeOnly(0, 0, 0), FIX::UtcTimeOnly(0, 0, 0)), 0,
        nullptr);
    session->setResponder(&responder);
  }
  void LogOn() {
    session->next(FromBroker(1, "A", "98=0|108=30|"), FIX::UtcTimeStamp());
    REQUIRE(session->isLoggedOn());
    responder.writes.clear();
  }
  QuietApplication application;
  FailingStoreFactory stores;
  FIX::DataDictionaryProvider provider;
  RecordingResponder responder;
  std::unique_ptr<FIX::Session> session;
};

const std::string kBody = Wire(
    "1=KZ-OP-0007|6=0|11=ord-1|14=0|17=5-0|37=77|38=30|39=0|40=2|44=10.05|"
    "54=2|55=KZQ-2026|59=1|60=20260101-10:00:00.000|150=0|151=30|");

std::string Field(const std::string& wire, const std::string& tag) {
  const std::string key = "\x01" + tag + "=";
  const std::size_t at = wire.find(key);
  if (at == std::string::npos) return "<unset>";
  const std::size_t start = at + key.size();
  return wire.substr(start, wire.find('\x01', start) - start);
}

TEST_CASE("a serialised report goes out as Session::send would send it") {
  Fixture f;
  f.LogOn();
  FIX::Message message(Wire("8=FIX.4.4|9=5|35=8|") + kBody + "10=000\x01",
                       false);
  REQUIRE(f.session->send(message));
  std::string scratch;
  REQUIRE(SendSerialized(*f.session, "8", kBody, &scratch));
  REQUIRE(f.responder.writes.size() == 2);
  const std::string& by_quickfix = f.responder.writes[0];
  const std::string& ours = f.responder.writes[1];
  CHECK(ours == scratch);
  // Numbered after the other; otherwise the same message: same fields, and
  // a valid BodyLength and CheckSum (the parse checks them).
  CHECK(Field(by_quickfix, "34") == "2");
  CHECK(Field(ours, "34") == "3");
  FIX::Message theirs_parsed(by_quickfix, true);
  FIX::Message ours_parsed(ours, true);
  ours_parsed.getHeader().setField(34, "2");
  ours_parsed.getHeader().setField(52, Field(by_quickfix, "52"));
  CHECK(ours_parsed.toString() == theirs_parsed.toString());
  CHECK(Field(ours, "52").size() == 21);  // milliseconds
  // Stored under its number, and the next number taken.
  std::vector<std::string> stored;
  f.session->getStore()->get(3, 3, stored);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0] == ours);
  CHECK(f.session->getExpectedSenderNum() == 4);
}

TEST_CASE("a serialised report to a session that is not logged on is kept") {
  Fixture f;
  std::string scratch;
  CHECK(SendSerialized(*f.session, "8", kBody, &scratch));
  CHECK(f.responder.writes.empty());
  CHECK(f.session->getExpectedSenderNum() == 2);
  std::vector<std::string> stored;
  f.session->getStore()->get(1, 1, stored);
  REQUIRE(stored.size() == 1);
  CHECK(Field(stored[0], "34") == "1");
  CHECK(Field(stored[0], "11") == "ord-1");
}

TEST_CASE("a store failure sends nothing and takes no number") {
  Fixture f;
  f.LogOn();
  const int next = f.session->getExpectedSenderNum();
  f.stores.fail = true;
  std::string scratch;
  CHECK_FALSE(SendSerialized(*f.session, "8", kBody, &scratch));
  CHECK(f.responder.writes.empty());
  CHECK(f.session->getExpectedSenderNum() == next);
  f.stores.fail = false;
  CHECK(SendSerialized(*f.session, "8", kBody, &scratch));
  REQUIRE(f.responder.writes.size() == 1);
  CHECK(Field(f.responder.writes[0], "34") == std::to_string(next));
}

}  // namespace
}  // namespace carbonex::gateway
