// Server: the running exchange behind carbonex-server.
//
// A Server owns, on one registry directory DIR:
//   - the registry (LMDB) and DIR/server.lock (so operator writes come to it
//     over DIR/control.sock);
//   - the engine, recovered at Start from DIR/engine.snapshot plus the
//     journal DIR/journal (or built from the registry on first start);
//   - a QuickFIX acceptor with one session per registered broker
//     (sequence numbers in DIR/fix-store);
//   - its threads: QuickFIX's session threads (translate FIX → commands),
//     the sequencer (stamp, journal, execute, group-commit, dispatch), one
//     sender per broker session (events → FIX), the registry writer (batched
//     DvP settlement), the control listener and a clock for the close time.
// docs/server.md describes threads, recovery and the snapshot format.
//
// Thread-safety: Start and Stop are called from one thread; the accessors
// are safe from any thread.
#ifndef CARBONEX_GATEWAY_SERVER_H_
#define CARBONEX_GATEWAY_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "carbonex/common/status.h"
#include "carbonex/gateway/config.h"

namespace carbonex::gateway {

struct ServerOptions {
  // The registry directory (carbonex-server --db). Must hold a registry.
  std::string db_dir = "./carbonex-data";
  ServerConfig config;
  // Directory of the running program, where the data dictionary is looked
  // for when config.data_dictionary is empty. Empty: not used.
  std::string program_dir;
};

class Server {
 public:
  // Recovers state, starts every thread and the FIX acceptor; on OK the
  // server accepts logons. Errors: kBusy (another server holds DIR),
  // kNotFound (no registry), kFailedPrecondition (no broker registered, a
  // journal without its snapshot), kCorruption (snapshot or journal does
  // not verify), kIoError, kInvalidArgument (a bad data dictionary).
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options);

  // Stops accepting, logs sessions out, drains and commits everything
  // accepted, settles it, writes a snapshot and stops every thread. Safe to
  // call twice. Returns the first error met while stopping.
  Status Stop();

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The engine's state hash as of the last completed batch.
  [[nodiscard]] std::uint64_t StateHash() const;
  // The last sequence number stamped.
  [[nodiscard]] std::uint64_t LastSequence() const;
  [[nodiscard]] std::uint16_t fix_port() const;

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carbonex::gateway

#endif  // CARBONEX_GATEWAY_SERVER_H_
