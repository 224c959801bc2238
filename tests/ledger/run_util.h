// Runs carbonex-registry as a child process and captures its output.
#ifndef CARBONEX_TESTS_LEDGER_RUN_UTIL_H_
#define CARBONEX_TESTS_LEDGER_RUN_UTIL_H_

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "test_util.h"

namespace carbonex::ledger::testing {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// args is appended to the program path as shell words (the tests quote
// their own arguments).
inline RunResult RunRegistry(const TempDir& tmp, const std::string& args) {
  const std::string out = tmp.Path() + "/stdout";
  const std::string err = tmp.Path() + "/stderr";
  const std::string cmd = std::string(CARBONEX_REGISTRY_BIN) + " " + args +
                          " >" + out + " 2>" + err + " </dev/null";
  const int status = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe)
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadText(out);
  r.err = ReadText(err);
  return r;
}

}  // namespace carbonex::ledger::testing

#endif  // CARBONEX_TESTS_LEDGER_RUN_UTIL_H_
