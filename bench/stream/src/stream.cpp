#include "carbonex/stream/stream.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace carbonex::stream {
namespace {

constexpr std::string_view kMagic = "# ets-stream v1";

// Splits `line` at single spaces. Returns false on an empty field (leading,
// trailing or doubled space). At most `max_fields` + 1 fields are produced,
// so a caller can tell "too many".
bool SplitFields(std::string_view line, std::vector<std::string_view>* fields,
                 std::size_t max_fields) {
  fields->clear();
  std::size_t start = 0;
  while (fields->size() <= max_fields) {
    const std::size_t space = line.find(' ', start);
    const std::string_view field = line.substr(
        start, space == std::string_view::npos ? space : space - start);
    if (field.empty()) {
      return false;
    }
    fields->push_back(field);
    if (space == std::string_view::npos) {
      break;
    }
    start = space + 1;
  }
  return true;
}

template <typename T>
bool ParseNumber(std::string_view text, T* value) {
  if (text.empty() || text.front() == '+' || text.front() == '-') {
    return false;
  }
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end;
}

Status LineError(std::uint64_t line_no, const std::string& what) {
  return Status::InvalidArgument("line " + std::to_string(line_no) + ": " +
                                 what);
}

std::string Quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 40;
  std::string quoted = "'";
  quoted.append(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) {
    quoted.append("...");
  }
  quoted.push_back('\'');
  return quoted;
}

// Parses "key=value" with the expected key into `value`.
template <typename T>
bool ParseKeyValue(std::string_view field, std::string_view key, T* value) {
  if (field.size() <= key.size() + 1 || field.substr(0, key.size()) != key ||
      field[key.size()] != '=') {
    return false;
  }
  return ParseNumber(field.substr(key.size() + 1), value);
}

Result<StreamHeader> ParseHeader(std::string_view line) {
  const std::string usage =
      "expected header '# ets-stream v1 events=<N> seed=<S> mid=<M> "
      "target=<T> mix=<P>/<A>/<C>', got " +
      Quote(line);
  if (line.substr(0, kMagic.size()) != kMagic || line.size() == kMagic.size() ||
      line[kMagic.size()] != ' ') {
    return LineError(1, usage);
  }
  std::vector<std::string_view> fields;
  if (!SplitFields(line.substr(kMagic.size() + 1), &fields, 5) ||
      fields.size() != 5) {
    return LineError(1, usage);
  }
  StreamHeader header;
  if (!ParseKeyValue(fields[0], "events", &header.events) ||
      !ParseKeyValue(fields[1], "seed", &header.seed) ||
      !ParseKeyValue(fields[2], "mid", &header.mid) ||
      !ParseKeyValue(fields[3], "target", &header.target)) {
    return LineError(1, usage);
  }
  std::string_view mix = fields[4];
  if (mix.substr(0, 4) != "mix=") {
    return LineError(1, usage);
  }
  mix.remove_prefix(4);
  const std::size_t slash1 = mix.find('/');
  const std::size_t slash2 = slash1 == std::string_view::npos
                                 ? std::string_view::npos
                                 : mix.find('/', slash1 + 1);
  if (slash2 == std::string_view::npos ||
      !ParseNumber(mix.substr(0, slash1), &header.passive_pct) ||
      !ParseNumber(mix.substr(slash1 + 1, slash2 - slash1 - 1),
                   &header.aggressive_pct) ||
      !ParseNumber(mix.substr(slash2 + 1), &header.cancel_pct)) {
    return LineError(1, usage);
  }
  if (header.passive_pct + header.aggressive_pct + header.cancel_pct != 100) {
    return LineError(
        1, "header mix " + Quote(fields[4]) + " does not add up to 100");
  }
  return header;
}

// Parses one event line into `event`. `stream` gives the ids added so far.
Status ParseEventLine(std::string_view line, std::uint64_t line_no,
                      std::vector<std::string_view>* fields,
                      std::uint64_t orders_added, StreamEvent* event) {
  if (!SplitFields(line, fields, 6)) {
    return LineError(
        line_no, "fields must be separated by single spaces: " + Quote(line));
  }
  const std::string_view type = (*fields)[0];
  std::uint64_t id = 0;
  if (type == "A") {
    if (fields->size() != 6) {
      return LineError(line_no,
                       "expected 'A <order_id> <B|S> <price> <qty> <p|a>', "
                       "got " +
                           Quote(line));
    }
    if (!ParseNumber((*fields)[1], &id)) {
      return LineError(line_no,
                       "order id " + Quote((*fields)[1]) + " is not a number");
    }
    if (id != orders_added + 1) {
      return LineError(line_no, "order id " + std::to_string(id) +
                                    " out of sequence, expected " +
                                    std::to_string(orders_added + 1));
    }
    const std::string_view side = (*fields)[2];
    if (side != "B" && side != "S") {
      return LineError(line_no, "side must be B or S, got " + Quote(side));
    }
    std::int64_t price = 0;
    if (!ParseNumber((*fields)[3], &price) || price < 1 || price > kMaxPrice) {
      return LineError(line_no, "price must be an integer between 1 and " +
                                    std::to_string(kMaxPrice) + ", got " +
                                    Quote((*fields)[3]));
    }
    std::int64_t qty = 0;
    if (!ParseNumber((*fields)[4], &qty) || qty < 1 || qty > kMaxQty) {
      return LineError(line_no, "quantity must be an integer between 1 and " +
                                    std::to_string(kMaxQty) + ", got " +
                                    Quote((*fields)[4]));
    }
    const std::string_view intent = (*fields)[5];
    if (intent != "p" && intent != "a") {
      return LineError(line_no, "intent must be p or a, got " + Quote(intent));
    }
    event->kind = EventKind::kAdd;
    event->order_id = OrderId(id);
    event->side = side == "B" ? Side::kBuy : Side::kSell;
    event->price = Price(price);
    event->qty = Quantity(qty);
    event->intent = intent == "p" ? Intent::kPassive : Intent::kAggressive;
    return Status::Ok();
  }
  if (type == "X") {
    if (fields->size() != 2) {
      return LineError(line_no, "expected 'X <order_id>', got " + Quote(line));
    }
    if (!ParseNumber((*fields)[1], &id)) {
      return LineError(line_no,
                       "order id " + Quote((*fields)[1]) + " is not a number");
    }
    if (id < 1 || id > orders_added) {
      return LineError(line_no, "cancel of order " + std::to_string(id) +
                                    ", which has not been added");
    }
    *event = StreamEvent{};
    event->kind = EventKind::kCancel;
    event->order_id = OrderId(id);
    return Status::Ok();
  }
  return LineError(line_no,
                   "unknown record type " + Quote(type) + " (expected A or X)");
}

}  // namespace

Result<Stream> ParseStream(std::string_view text) {
  Stream stream;
  std::uint64_t line_no = 0;
  std::size_t pos = 0;
  std::vector<std::string_view> fields;
  fields.reserve(8);
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find('\r') != std::string_view::npos) {
      return LineError(line_no, "carriage return in line (lines end in \\n)");
    }
    if (line_no == 1) {
      Result<StreamHeader> header = ParseHeader(line);
      if (!header.ok()) {
        return header.status();
      }
      stream.header = *header;
      // Guard against a hostile header asking for a huge reservation.
      stream.events.reserve(static_cast<std::size_t>(
          std::min<std::uint64_t>(stream.header.events, text.size() / 4)));
      continue;
    }
    if (line.empty()) {
      return LineError(line_no, "empty line");
    }
    if (stream.events.size() == stream.header.events) {
      return LineError(line_no, "more event lines than the header's events=" +
                                    std::to_string(stream.header.events));
    }
    StreamEvent event;
    if (Status status =
            ParseEventLine(line, line_no, &fields, stream.orders_added, &event);
        !status.ok()) {
      return status;
    }
    if (event.kind == EventKind::kAdd) {
      ++stream.orders_added;
    }
    stream.events.push_back(event);
  }
  if (line_no == 0) {
    return LineError(1, "empty stream: no header");
  }
  if (stream.events.size() != stream.header.events) {
    return LineError(line_no, "stream ends after " +
                                  std::to_string(stream.events.size()) +
                                  " events, header says events=" +
                                  std::to_string(stream.header.events));
  }
  return stream;
}

Result<Stream> ReadStreamFile(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin),
                std::istreambuf_iterator<char>());
    if (std::cin.bad()) {
      return Status::IoError("reading standard input failed");
    }
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Status::IoError(
          "cannot open " + path + ": " +
          std::strerror(errno));  // NOLINT(concurrency-mt-unsafe)
    }
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    if (size > 0) {
      text.resize(static_cast<std::size_t>(size));
      in.read(text.data(), size);
    }
    if (!in) {
      return Status::IoError("reading " + path + " failed");
    }
  }
  Result<Stream> stream = ParseStream(text);
  if (!stream.ok()) {
    const std::string name = path == "-" ? "<stdin>" : path;
    return Status(stream.status().code(),
                  name + ": " + stream.status().message());
  }
  return stream;
}

std::string FormatHeader(const StreamHeader& header) {
  std::ostringstream out;
  out << kMagic << " events=" << header.events << " seed=" << header.seed
      << " mid=" << header.mid << " target=" << header.target
      << " mix=" << header.passive_pct << '/' << header.aggressive_pct << '/'
      << header.cancel_pct;
  return out.str();
}

void AppendEvent(const StreamEvent& event, std::string* out) {
  std::array<char, 24> digits{};
  auto append_number = [&](auto value) {
    auto [ptr, ec] =
        std::to_chars(digits.data(), digits.data() + digits.size(), value);
    out->append(digits.data(), ptr);
  };
  if (event.kind == EventKind::kCancel) {
    out->append("X ");
    append_number(event.order_id.value());
    out->push_back('\n');
    return;
  }
  out->append("A ");
  append_number(event.order_id.value());
  out->append(event.side == Side::kBuy ? " B " : " S ");
  append_number(event.price.value());
  out->push_back(' ');
  append_number(event.qty.value());
  out->append(event.intent == Intent::kPassive ? " p\n" : " a\n");
}

}  // namespace carbonex::stream
