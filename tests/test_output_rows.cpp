// inkwell-classify's rows: written and read back for --resume, for any file name.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <utility>

#include "inkwell/classify/output_rows.hpp"
#include "inkwell/core/error.hpp"

namespace inkwell {
namespace {

const std::vector<std::string> kClasses = {"0", "1", "a,b"};

Prediction ok(std::string path, int label) { return {std::move(path), "", {label, (label + 1) % 3}, {0.75f, 0.25f}}; }
Prediction failed(std::string path) { return {std::move(path), "corrupt PNG (CRC \"mismatch\")", {}, {}}; }

std::string write(const std::vector<Prediction>& rows, RowFormat format, int top_k) {
  std::string out = format == RowFormat::csv ? csv_header(top_k) : "";
  for (const Prediction& p : rows) out += format_row(p, kClasses, top_k, format);
  return out;
}

std::string read_error(const std::string& content, RowFormat format, int top_k = 1) {
  try {
    read_output_rows(content, format, kClasses, top_k, "out");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Every byte a file name may hold comes back, in both formats: commas, quotes, a newline, a
// tab, a BOM, non-ASCII UTF-8 and bytes that are not UTF-8 at all.
TEST(OutputRows, AnyFileNameRoundTrips) {
  const std::vector<Prediction> rows = {ok("plain/1.png", 1), ok("a,b/\"q\"\nnext line.png", 2),
                                        failed("tab\there/\xEF\xBB\xBF\xE6\xBC\xA2\xE5\xAD\x97.png"),
                                        ok(std::string("raw/\xff\xfe\x80-\xc3(.png"), 0)};
  for (const RowFormat format : {RowFormat::csv, RowFormat::jsonl})
    for (const int top_k : {1, 2}) {
      const std::string content = write(rows, format, top_k);
      const KeptRows kept = read_output_rows(content, format, kClasses, top_k, "out");
      ASSERT_EQ(kept.paths.size(), rows.size());
      EXPECT_EQ(kept.keep_bytes, content.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(kept.paths[i], rows[i].path) << i;
        EXPECT_EQ(kept.labels[i], rows[i].error.empty() ? kClasses[rows[i].labels[0]] : "") << i;
      }
    }
}

// JSONL output is valid UTF-8 whatever the file names: bytes that are not UTF-8 become \udcXX.
TEST(OutputRows, JsonlIsValidUtf8) {
  const std::string line = format_row(ok(std::string("x\xff\xc3(\xed\xa0\x80.png"), 0), kClasses, 1, RowFormat::jsonl);
  EXPECT_NE(line.find("x\\udcff\\udcc3(\\udced\\udca0\\udc80.png"), std::string::npos) << line;
  for (unsigned char c : line) EXPECT_LT(c, 0x80) << line;  // here all of it is escaped ASCII
}

// A partial last row (killed mid-write) is left out, including one cut inside a quoted newline.
TEST(OutputRows, APartialLastRowIsLeftOut) {
  for (const RowFormat format : {RowFormat::csv, RowFormat::jsonl}) {
    const std::string whole = write({ok("a.png", 0), ok("b\nc.png", 1)}, format, 1);
    const size_t first_row_end = whole.find('\n', whole.find("a.png")) + 1;
    for (size_t cut = whole.size() - 1; cut >= first_row_end; --cut) {
      const KeptRows kept = read_output_rows(whole.substr(0, cut), format, kClasses, 1, "out");
      EXPECT_EQ(kept.paths, std::vector<std::string>{"a.png"}) << "cut at " << cut;
      EXPECT_EQ(whole.substr(0, kept.keep_bytes).back(), '\n');
    }
  }
}

// Rows this run would not write are refused, naming the first bad one: garbage, other columns,
// labels that are not classes, bad escapes and numbers.
TEST(OutputRows, RowsThisRunWouldNotWriteAreRefusedByNumber) {
  const std::string csv = write({ok("a.png", 0), ok("b.png", 1)}, RowFormat::csv, 1);
  const std::string row1 = csv.substr(0, csv.find("b.png"));
  EXPECT_NE(read_error(row1 + "garbage\n", RowFormat::csv).find("out: row 2 (line 3): 1 fields, this run writes 4"), std::string::npos);
  EXPECT_NE(read_error(csv, RowFormat::csv, 2).find("first line is not this run's header"), std::string::npos);
  EXPECT_NE(read_error(row1 + "b.png,7,0.5,ok\n", RowFormat::csv).find("row 2 (line 3): label '7' is not one of"), std::string::npos);
  EXPECT_NE(read_error(row1 + "b.png,1,1.5,ok\n", RowFormat::csv).find("confidence '1.5' is not a probability"), std::string::npos);
  EXPECT_NE(read_error(row1 + "b.png,1,0.5,maybe\n", RowFormat::csv).find("status 'maybe'"), std::string::npos);

  const std::string good = format_row(ok("a.png", 0), kClasses, 1, RowFormat::jsonl);
  EXPECT_NE(read_error(good + "{\"path\":\"b\\u00zz\"}\n", RowFormat::jsonl).find("out: row 2: bad \\u escape"), std::string::npos);
  EXPECT_NE(read_error(good + "{\"path\":\"b\\ud800\"}\n", RowFormat::jsonl).find("row 2: lone high surrogate"), std::string::npos);
  EXPECT_NE(read_error(good + "not json\n", RowFormat::jsonl).find("row 2: expected '{'"), std::string::npos);
  EXPECT_NE(read_error(good + good.substr(0, good.size() - 2) + ",\"extra\":1}\n", RowFormat::jsonl).find("row 2: 5 members"),
            std::string::npos);
}

}  // namespace
}  // namespace inkwell

namespace inkwell {
namespace {

// Every row the writer makes, --resume accepts (issue 20): a probability that is nan, inf or
// outside 0..1 (found by fuzz_output_rows: 6.7e26 was written and then refused) becomes an error
// row saying so, in CSV and JSONL.
TEST(OutputRows, NonProbabilitiesAreWrittenAsErrorRowsThatReadBack) {
  const std::vector<std::string> classes = {"0", "1"};
  const std::pair<float, const char*> cases[] = {{NAN, "not finite"}, {INFINITY, "not finite"}, {-INFINITY, "not finite"},
                                                 {6.7e26f, "not a probability"}, {-0.5f, "not a probability"}};
  for (const RowFormat format : {RowFormat::csv, RowFormat::jsonl}) {
    for (const auto& [value, reason] : cases) {
      const Prediction p{"a.png", "", {1}, {value}};
      const std::string line = format_row(p, classes, 1, format);
      EXPECT_NE(line.find(reason), std::string::npos) << line;
      const std::string file = (format == RowFormat::csv ? csv_header(1) : "") + line;
      const KeptRows back = read_output_rows(file, format, classes, 1, "rows");
      ASSERT_EQ(back.paths, std::vector<std::string>{"a.png"});
      EXPECT_EQ(back.labels, std::vector<std::string>{""}) << "not an error row: " << line;
    }
  }
}

// A probability is written as printf's "%.6f" of it, digit for digit: every float in [0, 1] at
// steps of 2^-20 and around the ties of the sixth decimal (rows written before to_chars must
// compare equal to new ones, and --resume keeps both).
TEST(OutputRows, ProbabilitiesAreWrittenAsPrintfsSixDecimals) {
  const std::vector<std::string> classes = {"0", "1"};
  std::vector<float> values;
  for (int i = 0; i <= 1 << 20; ++i) values.push_back(static_cast<float>(i) / (1 << 20));
  for (int i = 0; i < 1000000; i += 997)
    for (const float tie : {(i + 0.5f) * 1e-6f, std::nextafter((i + 0.5f) * 1e-6f, 0.f), std::nextafter((i + 0.5f) * 1e-6f, 1.f)})
      values.push_back(tie);
  for (const float v : values) {
    char want[32];
    std::snprintf(want, sizeof want, "%.6f", v);
    const std::string line = format_row({"a.png", "", {1}, {v}}, classes, 1, RowFormat::csv);
    ASSERT_EQ(line, std::string("a.png,1,") + want + ",ok\n") << v;
  }
}

}  // namespace
}  // namespace inkwell
