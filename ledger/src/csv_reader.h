// A small, strict CSV reader (RFC 4180): comma-separated fields, optional
// double quotes around a field ("" inside quotes is one quote; quoted fields
// may hold commas and line breaks), records end with LF or CRLF. Anything
// else is an error naming the file, the line and the column: a quote inside
// an unquoted field, text after a closing quote, an unterminated quote, a
// record with more or fewer fields than the header. Empty lines are skipped.
// The first record is the header; column names must be unique.
#ifndef CARBONEX_LEDGER_SRC_CSV_READER_H_
#define CARBONEX_LEDGER_SRC_CSV_READER_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonex/common/status.h"

namespace carbonex::ledger {

struct CsvRecord {
  std::size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

// Splits text into records. Errors: kInvalidArgument naming file and line.
Status ParseCsvRecords(std::string_view text, std::string_view file_name,
                       std::vector<CsvRecord>* records);

class CsvTable {
 public:
  // Parses text with its header. Errors: kInvalidArgument (malformed, empty
  // file, duplicate column, wrong field count on a line).
  static Status Parse(std::string_view text, std::string_view file_name,
                      CsvTable* out);

  // kInvalidArgument naming the missing column if any is absent.
  Status RequireColumns(const std::vector<std::string>& names) const;
  [[nodiscard]] std::optional<std::size_t> Column(std::string_view name) const;
  [[nodiscard]] const std::vector<std::string>& Header() const {
    return header_;
  }
  [[nodiscard]] const std::vector<CsvRecord>& Rows() const { return rows_; }
  // Field of a row by column name. Precondition: the column exists.
  [[nodiscard]] const std::string& Field(const CsvRecord& row,
                                         std::string_view column) const;
  // "FILE line N, column NAME: problem" as kInvalidArgument.
  [[nodiscard]] Status Error(const CsvRecord& row, std::string_view column,
                             std::string_view problem) const;
  [[nodiscard]] const std::string& FileName() const { return file_name_; }

 private:
  std::string file_name_;
  std::vector<std::string> header_;
  std::vector<CsvRecord> rows_;
};

}  // namespace carbonex::ledger

#endif  // CARBONEX_LEDGER_SRC_CSV_READER_H_
