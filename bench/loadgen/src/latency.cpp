#include "carbonex/loadgen/latency.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>

namespace carbonex::loadgen {
namespace {

void AppendRow(std::string& out, double percentile, std::int64_t ns) {
  char row[64];
  std::snprintf(row, sizeof(row), "%.2f,%.3f\n", percentile,
                static_cast<double>(ns) / 1000.0);
  out += row;
}

// Single quotes for a gnuplot string literal.
std::string GnuplotQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::int64_t Percentile(const std::vector<std::int64_t>& sorted,
                        double percentile) {
  const double n = static_cast<double>(sorted.size());
  // Rank in 1..n; a small epsilon keeps exact ranks (e.g. 50 % of 10) from
  // rounding up through floating-point noise.
  double rank = std::ceil(percentile / 100.0 * n - 1e-9);
  rank = std::clamp(rank, 1.0, n);
  return sorted[static_cast<std::size_t>(rank) - 1];
}

LatencySummary Summarize(std::vector<std::int64_t> samples) {
  LatencySummary summary;
  if (samples.empty()) {
    return summary;
  }
  std::sort(samples.begin(), samples.end());
  summary.count = samples.size();
  summary.min = samples.front();
  summary.p50 = Percentile(samples, 50);
  summary.p90 = Percentile(samples, 90);
  summary.p99 = Percentile(samples, 99);
  summary.p999 = Percentile(samples, 99.9);
  summary.max = samples.back();
  // Sum as long double: a million samples of seconds would overflow nothing,
  // but keeps the mean exact enough either way.
  const long double sum = std::accumulate(samples.begin(), samples.end(), 0.0L);
  summary.mean =
      static_cast<double>(sum / static_cast<long double>(samples.size()));
  return summary;
}

std::string PercentileCsv(const std::vector<std::int64_t>& sorted) {
  std::string out = "percentile,latency_us\n";
  if (sorted.empty()) {
    return out;
  }
  // Integer steps in hundredths of a percent avoid accumulating float error.
  for (int hundredths = 0; hundredths <= 10000;) {
    const double percentile = hundredths / 100.0;
    AppendRow(out, percentile, Percentile(sorted, percentile));
    if (hundredths < 9000) {
      hundredths += 100;
    } else if (hundredths < 9990) {
      hundredths += 10;
    } else {
      hundredths += 1;
    }
  }
  return out;
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    return Status::IoError("cannot open '" + path + "' for writing");
  }
  file << text;
  file.close();
  if (!file) {
    return Status::IoError("cannot write '" + path + "'");
  }
  return Status::Ok();
}

Status PlotPercentiles(const std::string& csv_path, const std::string& png_path,
                       const std::string& title) {
  const std::string script_path = png_path + ".gp";
  const std::string script =
      "set terminal pngcairo size 900,600\n"
      "set output " +
      GnuplotQuoted(png_path) +
      "\n"
      "set datafile separator ','\n"
      "set title " +
      GnuplotQuoted(title) +
      "\n"
      "set xlabel 'percentile'\n"
      "set ylabel 'order -> ack latency (us)'\n"
      "set logscale y\n"
      "set grid\n"
      "set key off\n"
      "plot " +
      GnuplotQuoted(csv_path) + " every ::1 using 1:2 with lines lw 2\n";
  if (Status s = WriteFile(script_path, script); !s.ok()) {
    return s;
  }
  // The paths are quoted for the shell: single quotes, with embedded ones
  // closed, escaped and reopened.
  std::string quoted = "'";
  for (char c : script_path) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  quoted += "'";
  const std::string command = "gnuplot " + quoted + " 2>&1";
  // NOLINTNEXTLINE(cert-env33-c,concurrency-mt-unsafe): a fixed program.
  const int rc = std::system(command.c_str());
  std::remove(script_path.c_str());
  if (rc != 0) {
    return Status::IoError("gnuplot failed (exit status " + std::to_string(rc) +
                           ") plotting '" + png_path + "'");
  }
  return Status::Ok();
}

}  // namespace carbonex::loadgen
