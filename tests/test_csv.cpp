// CSV: spreadsheet files read right, and whatever is read writes back to the same fields.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "inkwell/core/csv.hpp"
#include "inkwell/core/error.hpp"

namespace inkwell {
namespace {

std::vector<std::vector<std::string>> fields(std::string_view text) {
  std::vector<std::vector<std::string>> out;
  for (const CsvRow& row : parse_csv(text, "test")) out.push_back(row.fields);
  return out;
}

std::string write(const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv_field(row[i]);
    out += "\n";
  }
  return out;
}

TEST(Csv, ReadsWhatSpreadsheetsWrite) {
  EXPECT_EQ(fields("\xEF\xBB\xBFpath,label\r\n\"a,\"\"b\"\"\nc\",d\r\n\r\nlast,row"),
            (std::vector<std::vector<std::string>>{{"path", "label"}, {"a,\"b\"\nc", "d"}, {"last", "row"}}));
  EXPECT_THROW(fields("a,\"open\n"), Error);
  EXPECT_THROW(fields("\"closed\"x,y\n"), Error);
}

// Found by fuzz_csv: a first field starting with a BOM was written unquoted, and read back as
// the file's BOM. The input that found it is kept in tests/data/fuzz-findings/.
TEST(Csv, ALeadingByteOrderMarkInAFieldRoundTrips) {
  std::ifstream in(std::string(INKWELL_SOURCE_DIR) + "/tests/data/fuzz-findings/csv-leading-bom-field", std::ios::binary);
  const std::string finding((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(finding.empty());
  for (const std::string& text : {finding, std::string("\xEF\xBB\xBF\xEF\xBB\xBFx,y\n")}) {
    const auto rows = fields(text);
    EXPECT_EQ(fields(write(rows)), rows);
  }
}

}  // namespace
}  // namespace inkwell
