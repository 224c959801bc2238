#include "carbonex/loadgen/load_runner.h"

#include <quickfix/FieldNumbers.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "carbonex/fixclient/client.h"
#include "carbonex/stream/generator.h"
#include "carbonex/stream/stream.h"

namespace carbonex::loadgen {
namespace {

using Clock = std::chrono::steady_clock;
using fixclient::FieldOf;
using fixclient::MsgTypeOf;

// A live order a session may cancel.
struct LiveOrder {
  std::string cl_ord_id;
  std::size_t account = 0;
  std::size_t symbol = 0;
  Side side = Side::kBuy;
};

// A request waiting for its first reply.
struct Pending {
  Clock::time_point sent;
  std::size_t session = 0;
};

struct SessionState {
  std::size_t in_flight = 0;
  std::vector<LiveOrder> live;  // swap-remove
  std::unordered_map<std::string, std::size_t> live_index;
  // New orders sent but not yet known live or done, by ClOrdID.
  std::unordered_map<std::string, LiveOrder> unconfirmed;

  void AddLive(LiveOrder order) {
    if (live_index.count(order.cl_ord_id) != 0) {
      return;
    }
    live_index.emplace(order.cl_ord_id, live.size());
    live.push_back(std::move(order));
  }
  void RemoveLive(const std::string& cl_ord_id) {
    auto it = live_index.find(cl_ord_id);
    if (it == live_index.end()) {
      return;
    }
    const std::size_t hole = it->second;
    live_index.erase(it);
    if (hole + 1 != live.size()) {
      live[hole] = std::move(live.back());
      live_index[live[hole].cl_ord_id] = hole;
    }
    live.pop_back();
  }
};

// Shared between the sending thread and QuickFIX's thread.
struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<SessionState> sessions;
  std::unordered_map<std::string, Pending> pending;
  std::vector<std::int64_t> latencies;
  Clock::time_point last_reply;
  LoadReport report;
  std::uint64_t sent = 0;

  // Called with mu held.
  void Acknowledge(const std::string& cl_ord_id, Clock::time_point now) {
    auto it = pending.find(cl_ord_id);
    if (it == pending.end()) {
      return;
    }
    latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            now - it->second.sent)
                            .count());
    --sessions[it->second.session].in_flight;
    pending.erase(it);
    ++report.acked;
    last_reply = now;
  }

  void OnMessage(std::size_t session, const FIX::Message& message) {
    const Clock::time_point now = Clock::now();
    const std::string type = MsgTypeOf(message);
    std::lock_guard lock(mu);
    SessionState& state = sessions[session];
    if (type == "8") {
      const std::string cl_ord_id =
          FieldOf(message, FIX::FIELD::ClOrdID).value_or("");
      const std::string exec_type =
          FieldOf(message, FIX::FIELD::ExecType).value_or("");
      const std::string status =
          FieldOf(message, FIX::FIELD::OrdStatus).value_or("");
      if (exec_type == "8") {
        ++report.rejected;
        ++report.reject_reasons
              [FieldOf(message, FIX::FIELD::OrdRejReason).value_or("-") + " " +
               FieldOf(message, FIX::FIELD::Text).value_or("")];
      }
      if (exec_type == "F") {
        ++report.fills;
      }
      Acknowledge(cl_ord_id, now);
      const bool open = status == "0" || status == "1";
      if (exec_type == "4" || exec_type == "5") {
        // Cancel or replace confirmations name the original order.
        state.RemoveLive(
            FieldOf(message, FIX::FIELD::OrigClOrdID).value_or(""));
      }
      auto unconfirmed = state.unconfirmed.find(cl_ord_id);
      if (unconfirmed != state.unconfirmed.end()) {
        if (open) {
          state.AddLive(std::move(unconfirmed->second));
        }
        state.unconfirmed.erase(unconfirmed);
      } else if (!open) {
        state.RemoveLive(cl_ord_id);
      }
    } else if (type == "9") {
      ++report.cancel_rejects;
      Acknowledge(FieldOf(message, FIX::FIELD::ClOrdID).value_or(""), now);
    } else if (type == "j") {
      ++report.business_rejects;
      Acknowledge(
          FieldOf(message, FIX::FIELD::BusinessRejectRefID).value_or(""), now);
    }
    cv.notify_all();
  }
};

// Writes the orders SendDeferred() collected. A failed write means the
// session is lost: what it sent since the last flush is never answered.
bool FlushDeferred(fixclient::Client& client, Shared& shared) {
  if (client.FlushDeferred().ok()) {
    return true;
  }
  std::lock_guard lock(shared.mu);
  shared.report.session_lost = true;
  return false;
}

// A short run-unique prefix for ClOrdIDs (base-36 milliseconds since the
// epoch, modulo 36^6), so that repeated runs against one server do not
// reuse ClOrdIDs of the day.
std::string RunNonce() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  auto value = static_cast<std::uint64_t>(ms) % 2176782336ULL;  // 36^6
  std::string out(6, '0');
  for (std::size_t i = 6; i-- > 0;) {
    out[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[value % 36];
    value /= 36;
  }
  return out;
}

Status ValidateOptions(const LoadOptions& options) {
  if (options.sessions < 1) {
    return Status::InvalidArgument("--sessions must be at least 1");
  }
  if (options.accounts.empty()) {
    return Status::InvalidArgument("no accounts given (--accounts)");
  }
  if (options.symbols.empty()) {
    return Status::InvalidArgument("no symbols given (--symbols)");
  }
  if (options.window < 1) {
    return Status::InvalidArgument("--window must be at least 1");
  }
  if (options.rate < 0) {
    return Status::InvalidArgument("--rate must not be negative");
  }
  return Status::Ok();
}

// The first `count` events of the flow's ets-stream: generated with the
// stream generator's rules, or read from options.stream_file.
Result<std::vector<stream::StreamEvent>> LoadStream(
    const LoadOptions& options) {
  Result<stream::Stream> parsed = Status::Internal("unset");
  if (!options.stream_file.empty()) {
    parsed = stream::ReadStreamFile(options.stream_file);
  } else {
    stream::GeneratorOptions generator;
    generator.events = options.count;
    generator.seed = options.generator.seed;
    generator.mid =
        options.generator.mid.value() / options.generator.tick.value();
    generator.target = options.stream_target;
    generator.passive_pct = options.generator.passive_pct;
    generator.aggressive_pct = options.generator.aggressive_pct;
    std::ostringstream text;
    Result<stream::GeneratorStats> stats =
        stream::GenerateStream(generator, text);
    if (!stats.ok()) {
      return stats.status();
    }
    parsed = stream::ParseStream(text.str());
  }
  if (!parsed.ok()) {
    return parsed.status();
  }
  std::vector<stream::StreamEvent> events = std::move(parsed->events);
  if (events.size() > options.count) {
    events.resize(static_cast<std::size_t>(options.count));
  }
  return events;
}

// Account and instrument of stream order `order_id`: independent draws from
// a hash of the id, so that the flow spreads evenly and reproducibly.
std::pair<std::size_t, std::size_t> Placement(std::uint64_t order_id,
                                              std::size_t accounts,
                                              std::size_t symbols) {
  stream::SplitMix64 hash(order_id);
  const auto account = static_cast<std::size_t>(hash.Below(accounts));
  const auto symbol = static_cast<std::size_t>(hash.Below(symbols));
  return {account, symbol};
}

}  // namespace

Result<LoadReport> RunLoad(
    const LoadOptions& options,
    const std::function<void(const Progress&)>& progress) {
  if (Status s = ValidateOptions(options); !s.ok()) {
    return s;
  }
  GeneratorOptions generator_options = options.generator;
  generator_options.accounts = options.accounts.size();
  generator_options.symbols = options.symbols.size();
  if (Status s = Validate(generator_options); !s.ok()) {
    return s;
  }
  OrderGenerator generator(generator_options);
  std::vector<stream::StreamEvent> events;
  if (options.flow == LoadOptions::Flow::kStream) {
    Result<std::vector<stream::StreamEvent>> loaded = LoadStream(options);
    if (!loaded.ok()) {
      return loaded.status();
    }
    events = std::move(*loaded);
  }
  // Stream orders as sent, indexed by order id - 1, for their cancels.
  std::vector<LiveOrder> stream_orders;
  std::vector<std::size_t> stream_sessions;

  Shared shared;
  shared.sessions.resize(static_cast<std::size_t>(options.sessions));

  fixclient::ClientOptions client_options;
  client_options.host = options.host;
  client_options.port = options.port;
  for (int i = 1; i <= options.sessions; ++i) {
    const std::string comp_id = options.comp_id_prefix + std::to_string(i);
    auto password = options.passwords.find(comp_id);
    client_options.sessions.push_back(
        {.sender_comp_id = comp_id,
         .target_comp_id = options.target_comp_id,
         .username = "",
         .password = password != options.passwords.end()
                         ? password->second
                         : options.default_password});
  }
  // Replies are flat messages read by tag, and orders are never resent: skip
  // QuickFIX's dictionary checks and its copy of every sent message.
  client_options.validate_inbound = false;
  client_options.persist_messages = false;
  client_options.tcp_nodelay = !options.nagle;
  client_options.batch_writes = options.batch_writes;
  client_options.on_app_message = [&shared](std::size_t session,
                                            const FIX::Message& message) {
    shared.OnMessage(session, message);
  };
  fixclient::Client client(client_options);
  if (Status s = client.Start(); !s.ok()) {
    return s;
  }

  const auto logon_deadline = Clock::now() + options.logon_timeout;
  for (std::size_t i = 0; i < client.SessionCount(); ++i) {
    const auto left =
        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                     logon_deadline - Clock::now()),
                 std::chrono::milliseconds(0));
    if (Status s = client.WaitLoggedOn(i, left); !s.ok()) {
      client.Stop();
      return Status::FailedPrecondition(s.message());
    }
  }

  const std::string nonce = RunNonce();
  const auto start = Clock::now();
  const auto end = start + options.duration;
  const auto window = static_cast<std::size_t>(options.window);
  shared.last_reply = start;

  // Progress reporter.
  bool finished = false;
  std::thread reporter;
  if (progress) {
    reporter = std::thread([&] {
      std::unique_lock lock(shared.mu);
      auto next_tick = start + std::chrono::seconds(1);
      for (;;) {
        if (shared.cv.wait_until(lock, next_tick, [&] { return finished; })) {
          break;
        }
        Progress p;
        p.elapsed_s =
            std::chrono::duration<double>(Clock::now() - start).count();
        p.sent = shared.sent;
        p.acked = shared.report.acked;
        p.in_flight = shared.pending.size();
        lock.unlock();
        progress(p);
        lock.lock();
        next_tick += std::chrono::seconds(1);
      }
    });
  }

  const std::uint64_t total = options.flow == LoadOptions::Flow::kStream
                                  ? events.size()
                                  : options.count;
  const std::size_t session_count = client.SessionCount();
  std::uint64_t n = 0;
  gateway::FixBodyWriter body;
  while (n < total && Clock::now() < end) {
    if (options.rate > 0) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(
                                       static_cast<double>(n) / options.rate));
      if (due >= end) {
        break;
      }
      if (Clock::now() < due) {
        if (!FlushDeferred(client, shared)) {
          break;
        }
        std::this_thread::sleep_until(due);
      }
    }
    std::size_t session = n % session_count;
    const stream::StreamEvent* event = nullptr;
    if (options.flow == LoadOptions::Flow::kStream) {
      event = &events[static_cast<std::size_t>(n)];
      const auto index = static_cast<std::size_t>(event->order_id.value() - 1);
      session = event->kind == stream::EventKind::kAdd
                    ? index % session_count
                    : stream_sessions.at(index);
    }
    // The order goes straight into wire form (no FIX::Message).
    body.Clear();
    const char* msg_type = nullptr;
    std::string cl_ord_id =
        nonce + "-" + std::to_string(session + 1) + "-" + std::to_string(n);
    bool is_cancel = false;
    {
      std::unique_lock lock(shared.mu);
      SessionState& state = shared.sessions[session];
      if (state.in_flight >= window) {
        // What is ready goes out before waiting for the replies to it.
        lock.unlock();
        if (!FlushDeferred(client, shared)) {
          break;
        }
        lock.lock();
        if (!shared.cv.wait_until(lock, end,
                                  [&] { return state.in_flight < window; })) {
          break;
        }
      }
      // Stamped when the window lets the order go.
      const std::string transact_time = fixclient::UtcTimestampNow();
      if (event != nullptr && event->kind == stream::EventKind::kCancel) {
        const LiveOrder& target = stream_orders.at(
            static_cast<std::size_t>(event->order_id.value() - 1));
        msg_type = fixclient::WriteOrderCancelRequest(
            {.cl_ord_id = cl_ord_id,
             .orig_cl_ord_id = target.cl_ord_id,
             .account = options.accounts[target.account],
             .symbol = options.symbols[target.symbol],
             .side = target.side},
            transact_time, &body);
        is_cancel = true;
      } else if (event != nullptr) {
        const auto [account, symbol] =
            Placement(event->order_id.value(), options.accounts.size(),
                      options.symbols.size());
        msg_type = fixclient::WriteNewOrderSingle(
            {.cl_ord_id = cl_ord_id,
             .account = options.accounts[account],
             .symbol = options.symbols[symbol],
             .side = event->side,
             .qty = event->qty,
             .price =
                 Price(event->price.value() * generator_options.tick.value()),
             .tif = options.tif},
            transact_time, &body);
        stream_orders.push_back(
            LiveOrder{cl_ord_id, account, symbol, event->side});
        stream_sessions.push_back(session);
      } else {
        const Action action = generator.Next(state.live.size());
        if (action.kind == Action::Kind::kCancel) {
          const LiveOrder target = state.live[action.live_index];
          state.RemoveLive(target.cl_ord_id);
          msg_type = fixclient::WriteOrderCancelRequest(
              {.cl_ord_id = cl_ord_id,
               .orig_cl_ord_id = target.cl_ord_id,
               .account = options.accounts[target.account],
               .symbol = options.symbols[target.symbol],
               .side = target.side},
              transact_time, &body);
          is_cancel = true;
        } else {
          msg_type = fixclient::WriteNewOrderSingle(
              {.cl_ord_id = cl_ord_id,
               .account = options.accounts[action.account],
               .symbol = options.symbols[action.symbol],
               .side = action.side,
               .qty = action.qty,
               .price = action.price,
               .tif = options.tif},
              transact_time, &body);
          state.unconfirmed.emplace(
              cl_ord_id,
              LiveOrder{cl_ord_id, action.account, action.symbol, action.side});
        }
      }
      ++state.in_flight;
      shared.pending.emplace(cl_ord_id, Pending{Clock::now(), session});
      ++shared.sent;
    }
    ++n;
    if (Status s = client.SendBodyDeferred(session, msg_type, body.body());
        !s.ok()) {
      std::lock_guard lock(shared.mu);
      ++shared.report.send_failures;
      --shared.sessions[session].in_flight;
      shared.pending.erase(cl_ord_id);
      shared.sessions[session].unconfirmed.erase(cl_ord_id);
      --shared.sent;
      if (!client.IsLoggedOn(session)) {
        shared.report.session_lost = true;
        break;
      }
      continue;
    }
    std::lock_guard lock(shared.mu);
    if (is_cancel) {
      ++shared.report.cancels_sent;
    } else {
      ++shared.report.orders_sent;
    }
  }

  (void)FlushDeferred(client, shared);
  {
    std::unique_lock lock(shared.mu);
    shared.cv.wait_for(lock, options.drain_timeout,
                       [&] { return shared.pending.empty(); });
    finished = true;
  }
  shared.cv.notify_all();
  if (reporter.joinable()) {
    reporter.join();
  }
  for (std::size_t i = 0; i < client.SessionCount(); ++i) {
    if (!client.IsLoggedOn(i)) {
      std::lock_guard lock(shared.mu);
      shared.report.session_lost = true;
    }
  }
  client.Stop();

  std::lock_guard lock(shared.mu);
  LoadReport report = shared.report;
  report.unacked = shared.pending.size();
  report.elapsed_s =
      std::chrono::duration<double>(shared.last_reply - start).count();
  report.throughput = report.elapsed_s > 0
                          ? static_cast<double>(report.acked) / report.elapsed_s
                          : 0;
  report.latencies_ns = std::move(shared.latencies);
  std::sort(report.latencies_ns.begin(), report.latencies_ns.end());
  report.latency = Summarize(report.latencies_ns);
  return report;
}

}  // namespace carbonex::loadgen
