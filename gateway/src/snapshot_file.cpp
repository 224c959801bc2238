#include "snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <map>
#include <system_error>

namespace carbonex::gateway {
namespace {

constexpr std::uint32_t kMagic = 0x53535843;  // "CXSS" little-endian
constexpr std::uint32_t kVersion = 2;  // 2 appended the open-order limits

std::uint64_t Fnv1a(const std::uint8_t* data, std::size_t size) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

class Writer {
 public:
  template <typename T>
  void Put(T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      bytes.push_back(static_cast<std::uint8_t>(
          static_cast<std::uint64_t>(value) >> (8 * i)));
    }
  }
  std::vector<std::uint8_t> bytes;
};

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size)
      : data_(data), size_(size) {}
  template <typename T>
  bool Get(T* value) {
    if (size_ - pos_ < sizeof(T)) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      v |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
    }
    pos_ += sizeof(T);
    *value = static_cast<T>(v);
    return true;
  }
  bool GetBytes(std::size_t n, std::vector<std::uint8_t>* out) {
    if (size_ - pos_ < n) return false;
    out->assign(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    return true;
  }
  [[nodiscard]] std::size_t pos() const { return pos_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

Status Errno(const std::string& what) {
  return Status::IoError(what + ": " + std::generic_category().message(errno));
}

}  // namespace

KnownEntities KnownEntities::From(const AccountState& state) {
  KnownEntities known;
  for (const auto& i : state.instruments)
    known.instruments.insert(i.id.value());
  for (const auto& a : state.accounts) known.accounts.insert(a.id.value());
  for (const auto& e : state.entitlements) {
    known.entitlements.emplace(e.broker.value(), e.account.value());
  }
  for (const auto& h : state.holdings) {
    known.positions.emplace(h.account.value(), h.instrument.value());
  }
  return known;
}

Status WriteSnapshotFile(const std::string& path,
                         const SnapshotFile& snapshot) {
  Writer w;
  w.Put(kMagic);
  w.Put(kVersion);
  w.Put(snapshot.seq);
  w.Put(snapshot.last_time_ns);
  w.Put(snapshot.last_close_ns);
  w.Put(snapshot.state_hash);
  w.Put(static_cast<std::uint32_t>(snapshot.known.instruments.size()));
  for (std::uint32_t id : snapshot.known.instruments) w.Put(id);
  w.Put(static_cast<std::uint32_t>(snapshot.known.accounts.size()));
  for (std::uint32_t id : snapshot.known.accounts) w.Put(id);
  w.Put(static_cast<std::uint32_t>(snapshot.known.entitlements.size()));
  for (const auto& [b, a] : snapshot.known.entitlements) {
    w.Put(b);
    w.Put(a);
  }
  w.Put(static_cast<std::uint32_t>(snapshot.known.positions.size()));
  for (const auto& [a, i] : snapshot.known.positions) {
    w.Put(a);
    w.Put(i);
  }
  w.Put(static_cast<std::uint64_t>(snapshot.engine.size()));
  w.bytes.insert(w.bytes.end(), snapshot.engine.begin(), snapshot.engine.end());
  w.Put(snapshot.max_open_orders_per_account);
  w.Put(snapshot.max_open_orders_per_broker);
  w.Put(Fnv1a(w.bytes.data(), w.bytes.size()));

  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create " + tmp);
  std::size_t done = 0;
  while (done < w.bytes.size()) {
    ssize_t n = ::write(fd, w.bytes.data() + done, w.bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("write " + tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno("fsync " + tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Errno("rename " + tmp);
  }
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<std::optional<SnapshotFile>> ReadSnapshotFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) {
      return std::optional<SnapshotFile>();
    }
    return Status::IoError("cannot open " + path);
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("snapshot " + path + ": " + what);
  };
  if (bytes.size() < 16) return corrupt("too short");
  Reader r(bytes.data(), bytes.size() - 8);
  std::uint32_t magic = 0;
  std::uint32_t version = 0;
  SnapshotFile s;
  if (!r.Get(&magic) || magic != kMagic) return corrupt("bad magic");
  if (!r.Get(&version) || version < 1 || version > kVersion) {
    return corrupt("unknown version");
  }
  Reader tail(bytes.data() + bytes.size() - 8, 8);
  std::uint64_t checksum = 0;
  (void)tail.Get(&checksum);
  if (checksum != Fnv1a(bytes.data(), bytes.size() - 8)) {
    return corrupt("checksum mismatch");
  }
  std::uint32_t n = 0;
  if (!r.Get(&s.seq) || !r.Get(&s.last_time_ns) || !r.Get(&s.last_close_ns) ||
      !r.Get(&s.state_hash)) {
    return corrupt("truncated header");
  }
  if (!r.Get(&n)) return corrupt("truncated");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t id = 0;
    if (!r.Get(&id)) return corrupt("truncated instruments");
    s.known.instruments.insert(id);
  }
  if (!r.Get(&n)) return corrupt("truncated");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t id = 0;
    if (!r.Get(&id)) return corrupt("truncated accounts");
    s.known.accounts.insert(id);
  }
  if (!r.Get(&n)) return corrupt("truncated");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    if (!r.Get(&a) || !r.Get(&b)) return corrupt("truncated entitlements");
    s.known.entitlements.emplace(a, b);
  }
  if (!r.Get(&n)) return corrupt("truncated");
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    if (!r.Get(&a) || !r.Get(&b)) return corrupt("truncated positions");
    s.known.positions.emplace(a, b);
  }
  std::uint64_t engine_size = 0;
  if (!r.Get(&engine_size) ||
      !r.GetBytes(static_cast<std::size_t>(engine_size), &s.engine)) {
    return corrupt("truncated engine state");
  }
  if (version >= 2 && (!r.Get(&s.max_open_orders_per_account) ||
                       !r.Get(&s.max_open_orders_per_broker))) {
    return corrupt("truncated limits");
  }
  if (r.pos() != bytes.size() - 8) return corrupt("trailing bytes");
  return std::optional<SnapshotFile>(std::move(s));
}

std::vector<engine::CommandBody> ReconcileCommands(const AccountState& registry,
                                                   const engine::Engine& engine,
                                                   KnownEntities* known) {
  std::vector<engine::CommandBody> commands;
  for (const InstrumentState& instrument : registry.instruments) {
    if (known->instruments.insert(instrument.id.value()).second) {
      commands.emplace_back(
          engine::AddInstrument{instrument.id, instrument.tick,
                                instrument.max_order_qty, instrument.status});
    }
  }
  for (const AccountEntry& account : registry.accounts) {
    if (known->accounts.insert(account.id.value()).second) {
      commands.emplace_back(
          engine::AddAccount{account.id, account.holding_limit});
    }
  }
  std::set<std::pair<std::uint32_t, std::uint32_t>> entitled;
  for (const EntitlementEntry& e : registry.entitlements) {
    entitled.emplace(e.broker.value(), e.account.value());
  }
  for (const auto& pair : entitled) {
    if (known->entitlements.insert(pair).second) {
      commands.emplace_back(engine::SetEntitlement{
          BrokerId(pair.first), AccountId(pair.second), true});
    }
  }
  for (auto it = known->entitlements.begin();
       it != known->entitlements.end();) {
    if (entitled.count(*it) == 0) {
      commands.emplace_back(engine::SetEntitlement{
          BrokerId(it->first), AccountId(it->second), false});
      it = known->entitlements.erase(it);
    } else {
      ++it;
    }
  }
  for (const AccountEntry& account : registry.accounts) {
    Cash delta = account.cash - engine.CashOf(account.id).held;
    if (delta.value() != 0) {
      commands.emplace_back(engine::AdjustCash{account.id, delta});
    }
  }
  std::map<std::pair<std::uint32_t, std::uint32_t>, Quantity> held;
  for (const HoldingEntry& h : registry.holdings) {
    held[{h.account.value(), h.instrument.value()}] = h.units;
    known->positions.emplace(h.account.value(), h.instrument.value());
  }
  for (const auto& [account, instrument] : known->positions) {
    auto found = held.find({account, instrument});
    Quantity want = found == held.end() ? Quantity(0) : found->second;
    Quantity delta =
        want -
        engine.Position(AccountId(account), InstrumentId(instrument)).held;
    if (delta.value() != 0) {
      commands.emplace_back(engine::AdjustUnits{
          AccountId(account), InstrumentId(instrument), delta});
    }
  }
  return commands;
}

}  // namespace carbonex::gateway
