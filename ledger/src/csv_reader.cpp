#include "csv_reader.h"

#include <algorithm>

namespace carbonex::ledger {
namespace {

Status LineError(std::string_view file, std::size_t line,
                 std::string_view problem) {
  return Status::InvalidArgument(std::string(file) + " line " +
                                 std::to_string(line) + ": " +
                                 std::string(problem));
}

}  // namespace

Status ParseCsvRecords(std::string_view text, std::string_view file_name,
                       std::vector<CsvRecord>* records) {
  records->clear();
  std::size_t i = 0;
  std::size_t line = 1;
  const std::size_t n = text.size();
  while (i < n) {
    CsvRecord rec;
    rec.line = line;
    // Skip empty lines.
    if (text[i] == '\n') {
      ++i;
      ++line;
      continue;
    }
    if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') {
      i += 2;
      ++line;
      continue;
    }
    bool end_of_record = false;
    while (!end_of_record) {
      std::string field;
      if (i < n && text[i] == '"') {
        ++i;
        const std::size_t open_line = line;
        bool closed = false;
        while (i < n) {
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') {
            ++line;
          }
          field.push_back(c);
          ++i;
        }
        if (!closed) {
          return LineError(file_name, open_line, "unterminated quoted field");
        }
        if (i < n && text[i] != ',' && text[i] != '\n' &&
            !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
          return LineError(file_name, line, "text after a closing quote");
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n') {
          if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') {
            break;
          }
          if (text[i] == '"') {
            return LineError(file_name, line, "quote inside an unquoted field");
          }
          if (text[i] == '\r') {
            return LineError(file_name, line, "stray carriage return");
          }
          field.push_back(text[i]);
          ++i;
        }
      }
      rec.fields.push_back(std::move(field));
      if (i >= n) {
        end_of_record = true;
      } else if (text[i] == ',') {
        ++i;
      } else if (text[i] == '\n') {
        ++i;
        ++line;
        end_of_record = true;
      } else {  // CRLF
        i += 2;
        ++line;
        end_of_record = true;
      }
    }
    records->push_back(std::move(rec));
  }
  return Status::Ok();
}

Status CsvTable::Parse(std::string_view text, std::string_view file_name,
                       CsvTable* out) {
  out->file_name_ = std::string(file_name);
  out->header_.clear();
  out->rows_.clear();
  std::vector<CsvRecord> records;
  Status s = ParseCsvRecords(text, file_name, &records);
  if (!s.ok()) {
    return s;
  }
  if (records.empty()) {
    return Status::InvalidArgument(std::string(file_name) +
                                   ": empty file (no header line)");
  }
  out->header_ = std::move(records.front().fields);
  for (std::size_t a = 0; a < out->header_.size(); ++a) {
    if (out->header_[a].empty()) {
      return LineError(file_name, records.front().line,
                       "empty column name in the header");
    }
    for (std::size_t b = 0; b < a; ++b) {
      if (out->header_[a] == out->header_[b]) {
        return LineError(file_name, records.front().line,
                         "duplicate column '" + out->header_[a] + "'");
      }
    }
  }
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].fields.size() != out->header_.size()) {
      return LineError(file_name, records[r].line,
                       "expected " + std::to_string(out->header_.size()) +
                           " fields, found " +
                           std::to_string(records[r].fields.size()));
    }
    out->rows_.push_back(std::move(records[r]));
  }
  return Status::Ok();
}

Status CsvTable::RequireColumns(const std::vector<std::string>& names) const {
  for (const auto& name : names) {
    if (!Column(name)) {
      return Status::InvalidArgument(file_name_ + " line 1: missing column '" +
                                     name + "'");
    }
  }
  return Status::Ok();
}

std::optional<std::size_t> CsvTable::Column(std::string_view name) const {
  auto it = std::find(header_.begin(), header_.end(), name);
  if (it == header_.end()) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(it - header_.begin());
}

const std::string& CsvTable::Field(const CsvRecord& row,
                                   std::string_view column) const {
  return row.fields[*Column(column)];
}

Status CsvTable::Error(const CsvRecord& row, std::string_view column,
                       std::string_view problem) const {
  return Status::InvalidArgument(
      file_name_ + " line " + std::to_string(row.line) + ", column '" +
      std::string(column) + "': " + std::string(problem));
}

}  // namespace carbonex::ledger
