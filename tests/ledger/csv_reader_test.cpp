#include "csv_reader.h"

#include <catch2/catch.hpp>

namespace carbonex::ledger {
namespace {

TEST_CASE("CSV reader handles quotes, CRLF and empty lines", "[csv]") {
  CsvTable t;
  REQUIRE(CsvTable::Parse("a,b,c\r\n1,\"x,y\",\"he said \"\"hi\"\"\"\r\n\n"
                          "2,\"multi\nline\",\r\n",
                          "f.csv", &t)
              .ok());
  REQUIRE(t.Rows().size() == 2);
  CHECK(t.Field(t.Rows()[0], "b") == "x,y");
  CHECK(t.Field(t.Rows()[0], "c") == "he said \"hi\"");
  CHECK(t.Rows()[0].line == 2);
  CHECK(t.Field(t.Rows()[1], "b") == "multi\nline");
  CHECK(t.Field(t.Rows()[1], "c").empty());
  CHECK(t.Rows()[1].line == 4);
}

TEST_CASE("CSV reader names the line of every malformation", "[csv]") {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : {
           Case{"a,b\n1,2,3\n", "f.csv line 2: expected 2 fields, found 3"},
           Case{"a,b\n1\n", "f.csv line 2: expected 2 fields, found 1"},
           Case{"a,b\n1,x\"y\n",
                "f.csv line 2: quote inside an unquoted field"},
           Case{"a,b\n1,\"xy\"z\n", "f.csv line 2: text after a closing quote"},
           Case{"a,b\n\n1,\"xy\n", "f.csv line 3: unterminated quoted field"},
           Case{"a,a\n1,2\n", "f.csv line 1: duplicate column 'a'"},
           Case{"", "f.csv: empty file (no header line)"},
       }) {
    CsvTable t;
    Status s = CsvTable::Parse(c.text, "f.csv", &t);
    INFO(c.text);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message() == c.expect);
  }
}

TEST_CASE("CSV table reports missing columns and field errors", "[csv]") {
  CsvTable t;
  REQUIRE(CsvTable::Parse("a,b\n1,2\n", "f.csv", &t).ok());
  Status s = t.RequireColumns({"a", "c"});
  CHECK(s.message() == "f.csv line 1: missing column 'c'");
  CHECK(t.Error(t.Rows()[0], "b", "bad").message() ==
        "f.csv line 2, column 'b': bad");
}

}  // namespace
}  // namespace carbonex::ledger
