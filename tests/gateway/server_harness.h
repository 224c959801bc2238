// Test support for end-to-end tests of carbonex-server: a scratch registry,
// a real server process on a free loopback port, and FIX clients.
//
// Every test makes its own directory and port, so tests run in parallel;
// the ServerProcess destructor always kills the server.
#ifndef CARBONEX_TESTS_GATEWAY_SERVER_HARNESS_H_
#define CARBONEX_TESTS_GATEWAY_SERVER_HARNESS_H_

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "carbonex/fixclient/client.h"
#include "carbonex/fixclient/messages.h"
#include "carbonex/fixclient/raw_connection.h"
#include "carbonex/ledger/registry.h"

namespace carbonex::testing {

// A port the kernel just handed out on the loopback interface; throws if it
// cannot get one (a test that used port 0 would fail later, less clearly).
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "FreePort socket");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "FreePort bind");
  }
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// A fresh directory under the system temp dir, removed at destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() /
             ("carbonex-e2e-" + std::to_string(::getpid()) + "-" +
              std::to_string(rd())))
                .string();
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The standard test market: KZQ-2026 (tick 0.01) and KZO-2025 (tick 0.05,
// max order 1000); companies A and B (broker BRK1 entitled to both), C
// (broker BRK2), D with a holding limit of 150 (BRK1); BRK3 with
// cancel-on-disconnect, entitled to A.
struct Market {
  static constexpr const char* kPassword = "s3cret-pass";
  static void Create(const std::string& db) {
    ledger::RegistryOptions options;
    options.path = db;
    options.create_if_missing = true;
    options.durable = false;
    auto registry = ledger::Registry::Open(options);
    if (!registry.ok()) throw std::runtime_error(registry.status().message());
    ledger::Registry& r = **registry;
    auto check = [](const Status& s) {
      if (!s.ok()) throw std::runtime_error(s.message());
    };
    check(r.AddInstrument({"KZQ-2026", ledger::InstrumentKind::kAllowance, 2026,
                           Price(1), Quantity(1'000'000)}));
    check(r.AddInstrument({"KZO-2025", ledger::InstrumentKind::kOffset, 2025,
                           Price(5), Quantity(1000)}));
    for (const char* id : {"CO-A", "CO-B", "CO-C"}) {
      ledger::CompanySpec company;
      company.id = id;
      company.name = std::string("Company ") + id;
      check(r.AddCompany(company));
    }
    ledger::CompanySpec limited;
    limited.id = "CO-D";
    limited.name = "Company D";
    limited.holding_limit = Quantity(150);
    check(r.AddCompany(limited));
    check(r.AddBroker({"BRK1", kPassword, false}));
    check(r.AddBroker({"BRK2", kPassword, false}));
    check(r.AddBroker({"BRK3", kPassword, true}));
    check(r.EntitleBroker("BRK1", "CO-A"));
    check(r.EntitleBroker("BRK1", "CO-B"));
    check(r.EntitleBroker("BRK1", "CO-D"));
    check(r.EntitleBroker("BRK2", "CO-C"));
    check(r.EntitleBroker("BRK3", "CO-A"));
    for (const char* id : {"CO-A", "CO-B", "CO-C", "CO-D"}) {
      check(r.DepositCash(id, Cash(100'000'000)));  // 1,000,000.00 KZT
      check(r.IssueUnits("KZQ-2026", id, Quantity(1000),
                         ledger::IssueReason::kAllocation));
      check(r.IssueUnits("KZO-2025", id, Quantity(100),
                         ledger::IssueReason::kOffsetProject));
    }
  }
};

// Runs a program and returns its stdout; exit status in *status.
inline std::string RunCommand(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return output;
  }
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    output.append(buffer, n);
  }
  int rc = ::pclose(pipe);
  *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return output;
}

// carbonex-registry --db DB --json ARGS → the JSON document.
inline nlohmann::json RegistryJson(const std::string& db,
                                   const std::string& args) {
  int status = 0;
  std::string out = RunCommand(std::string(CARBONEX_REGISTRY_BIN) + " --db " +
                                   db + " --json " + args + " 2>/dev/null",
                               &status);
  if (status != 0) {
    throw std::runtime_error("carbonex-registry " + args + " failed (" +
                             std::to_string(status) + "): " + out);
  }
  return nlohmann::json::parse(out);
}

inline int RegistryStatus(const std::string& db, const std::string& args,
                          std::string* output = nullptr) {
  int status = 0;
  std::string out = RunCommand(
      std::string(CARBONEX_REGISTRY_BIN) + " --db " + db + " " + args + " 2>&1",
      &status);
  if (output != nullptr) *output = out;
  return status;
}

// Units held/reserved of an account, and its cash.
struct Position {
  std::int64_t held = 0;
  std::int64_t reserved = 0;
};
inline Position UnitsOf(const nlohmann::json& holdings,
                        const std::string& account, const std::string& symbol) {
  for (const auto& a : holdings.at("accounts")) {
    if (a.at("account") != account) continue;
    for (const auto& u : a.at("units")) {
      if (u.at("symbol") == symbol) {
        return {u.at("held").get<std::int64_t>(),
                u.at("reserved").get<std::int64_t>()};
      }
    }
  }
  return {};
}
inline Position CashOf(const nlohmann::json& holdings,
                       const std::string& account) {
  for (const auto& a : holdings.at("accounts")) {
    if (a.at("account") != account) continue;
    return {a.at("cash").at("held_tiyn").get<std::int64_t>(),
            a.at("cash").at("reserved_tiyn").get<std::int64_t>()};
  }
  return {};
}

// `carbonex-registry holdings ARGS` once `settled` holds for it, or the last
// read after `timeout`. The server settles in batches (its registry writer
// commits about every 10 ms), so a read right after an execution report may
// not show it yet.
inline nlohmann::json HoldingsOnceSettled(
    const std::string& db, const std::string& args,
    const std::function<bool(const nlohmann::json&)>& settled,
    std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  nlohmann::json h = RegistryJson(db, "holdings " + args);
  while (!settled(h) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    h = RegistryJson(db, "holdings " + args);
  }
  return h;
}

// carbonex-server as a child process. stderr goes to a log file that tests
// read (state hashes); stdout is watched for the ready line.
class ServerProcess {
 public:
  ServerProcess(std::string db, int port, std::string config_text = "")
      : db_(std::move(db)), port_(port) {
    config_path_ = db_ + ".conf";
    std::ofstream(config_path_) << config_text;
    log_path_ = db_ + ".log";
  }
  ~ServerProcess() { Kill(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server and waits for its ready line. Returns false (with the
  // log in *why) when it exits or is not ready within the timeout.
  bool Start(std::string* why = nullptr,
             std::chrono::seconds timeout = std::chrono::seconds(30)) {
    int out[2];
    if (::pipe(out) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      int err = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(err, 2);
      ::close(out[0]);
      std::string port = std::to_string(port_);
      ::execl(CARBONEX_SERVER_BIN, CARBONEX_SERVER_BIN, "--db", db_.c_str(),
              "--fix-port", port.c_str(), "--config", config_path_.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    ::fcntl(out[0], F_SETFL, O_NONBLOCK);
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char buffer[256];
      ssize_t n = ::read(out[0], buffer, sizeof buffer);
      if (n > 0) text.append(buffer, static_cast<std::size_t>(n));
      if (text.find("ready") != std::string::npos) {
        ::close(out[0]);
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::close(out[0]);
    if (why != nullptr) *why = Log();
    Kill();
    return false;
  }

  // SIGTERM; returns the exit status, or -1 if it did not exit within 10 s
  // (then it is killed).
  int Terminate(std::chrono::milliseconds* took = nullptr) {
    if (pid_ <= 0) return -1;
    auto start = std::chrono::steady_clock::now();
    ::kill(pid_, SIGTERM);
    while (std::chrono::steady_clock::now() - start <
           std::chrono::seconds(10)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (took != nullptr) {
          *took = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - start);
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
    return -1;
  }

  // Waits up to `timeout` for the server to exit on its own: its exit
  // status (128 + the signal if a signal ended it), or nullopt while it
  // still runs (or was never started).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  [[nodiscard]] std::string Log() const {
    std::ifstream in(log_path_);
    return std::string((std::istreambuf_iterator<char>(in)),
                       std::istreambuf_iterator<char>());
  }

  // The state hash of the last log line containing `marker` ("stopped:",
  // "recovered:"), e.g. "stopped: seq 12 state hash 00ab…".
  [[nodiscard]] std::string LastHash(const std::string& marker) const {
    std::string log = Log();
    std::size_t at = log.rfind(marker);
    if (at == std::string::npos) return "";
    std::size_t end = log.find('\n', at);
    std::string line = log.substr(at, end - at);
    std::size_t seq = line.find("seq ");
    return line.substr(seq);  // "seq N state hash H"
  }

  [[nodiscard]] int port() const { return port_; }

 private:
  std::string db_;
  int port_;
  std::string config_path_;
  std::string log_path_;
  pid_t pid_ = -1;
};

inline fixclient::ClientOptions ClientFor(int port,
                                          std::vector<std::string> brokers) {
  fixclient::ClientOptions options;
  options.port = port;
  for (auto& b : brokers) {
    fixclient::SessionOptions s;
    s.sender_comp_id = b;
    s.password = Market::kPassword;
    options.sessions.push_back(s);
  }
  return options;
}

inline std::string Get(const FIX::Message& m, int tag) {
  return fixclient::FieldOf(m, tag).value_or("<unset>");
}

// A FIX frame with the fields exactly in the given order after
// BeginString(8) and BodyLength(9) (repeated tags kept, nothing reordered),
// with a correct BodyLength and CheckSum(10). For messages a FIX engine
// refuses to build: duplicate tags, tags out of place.
inline std::string FrameInOrder(const fixclient::FieldList& fields) {
  std::string body;
  for (const auto& [tag, value] : fields) {
    body += std::to_string(tag);
    body += '=';
    body += value;
    body += '\x01';
  }
  std::string frame =
      "8=FIX.4.4\x01"
      "9=" +
      std::to_string(body.size()) + "\x01" + body;
  unsigned sum = 0;
  for (char ch : frame) sum += static_cast<unsigned char>(ch);
  char checksum[8];
  std::snprintf(checksum, sizeof checksum, "%03u", sum % 256);
  return frame + "10=" + checksum + "\x01";
}

// One broker session spoken over a raw socket: logs on with
// ResetSeqNumFlag(141)=Y and numbers what it sends, so that a test can send
// any bytes in the middle of a live session and see the exchange's answer.
class RawBroker {
 public:
  explicit RawBroker(std::string comp_id) : comp_id_(std::move(comp_id)) {}

  // Connects and logs on with MsgSeqNum `first_seq`: 1 starts the session
  // afresh (ResetSeqNumFlag), any other number resumes it (no reset, so the
  // exchange keeps what it sent before); waits for the exchange's Logon.
  // Errors: those of RawConnection, and FailedPrecondition when the answer is
  // not a Logon. `receive_buffer_bytes`: as RawConnection::Connect.
  Status LogOn(int port, const std::string& password = Market::kPassword,
               int first_seq = 1, int receive_buffer_bytes = 0) {
    Status connected = conn_.Connect("127.0.0.1", port, std::chrono::seconds(2),
                                     receive_buffer_bytes);
    if (!connected.ok()) return connected;
    next_seq_ = first_seq;
    Status sent = conn_.SendRaw(fixclient::BuildFrame(
        fixclient::LogonFields(comp_id_, "CARBONEX", next_seq_++, comp_id_,
                               password, 30, first_seq == 1)));
    if (!sent.ok()) return sent;
    Result<FIX::Message> answer = conn_.Read(std::chrono::seconds(15));
    if (!answer.ok()) return answer.status();
    if (fixclient::MsgTypeOf(*answer) != "A") {
      return Status::FailedPrecondition("logon answered with " +
                                        fixclient::Describe(*answer));
    }
    return Status::Ok();
  }

  // The standard header (35, 49, 56, 34 = seq, 52) then `body` in order.
  [[nodiscard]] fixclient::FieldList Header(const std::string& type,
                                            int seq) const {
    return {{35, type},
            {49, comp_id_},
            {56, "CARBONEX"},
            {34, std::to_string(seq)},
            {52, fixclient::UtcTimestampNow()}};
  }
  [[nodiscard]] std::string Frame(const std::string& type,
                                  const fixclient::FieldList& body,
                                  int seq) const {
    fixclient::FieldList fields = Header(type, seq);
    fields.insert(fields.end(), body.begin(), body.end());
    return FrameInOrder(fields);
  }
  // Frames a message with the next sequence number and sends it.
  Status Send(const std::string& type, const fixclient::FieldList& body) {
    return conn_.SendRaw(Frame(type, body, next_seq_++));
  }
  // Sends bytes as they are; the sequence number is not advanced.
  Status SendBytes(std::string_view bytes) { return conn_.SendRaw(bytes); }

  // The next message that satisfies `want`; the ones before it are appended
  // to *skipped. nullopt on timeout or when the exchange closes.
  std::optional<FIX::Message> WaitFor(
      const std::function<bool(const FIX::Message&)>& want,
      std::chrono::milliseconds timeout,
      std::vector<FIX::Message>* skipped = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      Result<FIX::Message> m = conn_.Read(left);
      if (!m.ok()) return std::nullopt;
      if (want(*m)) return *m;
      if (skipped != nullptr) skipped->push_back(*m);
    }
  }

  [[nodiscard]] int next_seq() const { return next_seq_; }
  void set_next_seq(int seq) { next_seq_ = seq; }
  fixclient::RawConnection& connection() { return conn_; }
  [[nodiscard]] const std::string& comp_id() const { return comp_id_; }

 private:
  std::string comp_id_;
  int next_seq_ = 1;
  fixclient::RawConnection conn_;
};

// Every QuickFIX event log of the server on `db` (connections, logons,
// logouts and why), each headed by its file name: for a failed test's
// output.
inline std::string FixEventLogs(const std::string& db) {
  std::string text;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(db + "/fix-log", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".event.") == std::string::npos) continue;
    std::ifstream in(entry.path());
    text += "== " + name + "\n" +
            std::string((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
  }
  return text;
}

// A scratch registry with the standard Market and a server on a free port,
// started with `config` (the text of its config file).
struct RunningExchange {
  explicit RunningExchange(const std::string& config = "") {
    db = dir.path() + "/db";
    Market::Create(db);
    port = FreePort();
    server = std::make_unique<ServerProcess>(db, port, config);
    std::string why;
    started = server->Start(&why);
    start_log = why;
  }
  ScratchDir dir;
  std::string db;
  int port = 0;
  std::unique_ptr<ServerProcess> server;
  bool started = false;
  std::string start_log;
};

}  // namespace carbonex::testing

#endif  // CARBONEX_TESTS_GATEWAY_SERVER_HARNESS_H_
