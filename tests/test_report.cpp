// The training reports: CSV quoting, the curves' panels and series, divergence, and a layout
// check of every SVG: no text leaves the canvas or overlaps other text (with svg_text.hpp's
// width estimate, which errs wide: DejaVu Sans).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>

#include "inkwell/train/report.hpp"
#include "inkwell/train/svg_text.hpp"

namespace inkwell {
namespace {

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// A <text> element as the box its glyphs cover: a rectangle, rotated about (x, y) by `angle`.
struct TextBox {
  std::string text;
  std::array<std::array<double, 2>, 4> corners;
};

std::string unescape(std::string s) {
  for (const auto& [from, to] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}})
    for (size_t at; (at = s.find(from)) != std::string::npos;) s.replace(at, std::string(from).size(), to);
  return s;
}

std::vector<TextBox> text_boxes(const std::string& svg) {
  static const std::regex element("<text ([^>]*)>([^<]*)</text>");
  static const std::regex attribute("([a-z-]+)='([^']*)'");
  std::vector<TextBox> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), element); it != std::sregex_iterator(); ++it) {
    std::map<std::string, std::string> a;
    const std::string attrs = (*it)[1];
    for (auto at = std::sregex_iterator(attrs.begin(), attrs.end(), attribute); at != std::sregex_iterator(); ++at)
      a[(*at)[1]] = (*at)[2];
    const std::string text = unescape((*it)[2]);
    double x = std::stod(a["x"]), y = std::stod(a["y"]), angle = 0;
    const double size = std::stod(a["font-size"]), w = text_width(text, size);
    std::smatch m;
    static const std::regex translate_rotate("translate\\(([-0-9.]+),([-0-9.]+)\\) rotate\\(([-0-9.]+)\\)");
    static const std::regex rotate_about("rotate\\(([-0-9.]+) ([-0-9.]+),([-0-9.]+)\\)");
    if (std::regex_search(a["transform"], m, translate_rotate)) x += std::stod(m[1]), y += std::stod(m[2]), angle = std::stod(m[3]);
    else if (std::regex_search(a["transform"], m, rotate_about)) angle = std::stod(m[1]);
    const double start = a["text-anchor"] == "middle" ? -w / 2 : a["text-anchor"] == "end" ? -w : 0;
    // Glyphs: from the baseline up by the ascent (0.8 em) and down by the descent (0.25 em).
    const double c = std::cos(angle * M_PI / 180), s = std::sin(angle * M_PI / 180);
    TextBox box{text, {}};
    const std::array<std::array<double, 2>, 4> local = {{{start, -0.8 * size}, {start + w, -0.8 * size}, {start + w, 0.25 * size}, {start, 0.25 * size}}};
    for (int i = 0; i < 4; ++i) box.corners[i] = {x + c * local[i][0] - s * local[i][1], y + s * local[i][0] + c * local[i][1]};
    out.push_back(box);
  }
  return out;
}

// Separating axis test of two convex quadrilaterals.
bool overlap(const TextBox& a, const TextBox& b) {
  for (const TextBox* box : {&a, &b})
    for (int i = 0; i < 2; ++i) {
      const double ax = box->corners[i + 1][0] - box->corners[i][0], ay = box->corners[i + 1][1] - box->corners[i][1];
      const double nx = -ay, ny = ax;
      double a_lo = 1e300, a_hi = -1e300, b_lo = 1e300, b_hi = -1e300;
      for (const auto& p : a.corners) a_lo = std::min(a_lo, nx * p[0] + ny * p[1]), a_hi = std::max(a_hi, nx * p[0] + ny * p[1]);
      for (const auto& p : b.corners) b_lo = std::min(b_lo, nx * p[0] + ny * p[1]), b_hi = std::max(b_hi, nx * p[0] + ny * p[1]);
      if (a_hi <= b_lo || b_hi <= a_lo) return false;
    }
  return true;
}

void expect_clean_layout(const std::string& svg, const std::string& what) {
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("<svg [^>]*width='([0-9.]+)' height='([0-9.]+)'"))) << what;
  const double width = std::stod(m[1]), height = std::stod(m[2]);
  const std::vector<TextBox> boxes = text_boxes(svg);
  ASSERT_FALSE(boxes.empty()) << what;
  for (const TextBox& b : boxes)
    for (const auto& p : b.corners)
      EXPECT_TRUE(p[0] >= 0 && p[0] <= width && p[1] >= 0 && p[1] <= height)
          << what << ": '" << b.text << "' leaves the " << width << "x" << height << " canvas at (" << p[0] << ", " << p[1] << ")";
  for (size_t i = 0; i < boxes.size(); ++i)
    for (size_t j = i + 1; j < boxes.size(); ++j)
      EXPECT_FALSE(overlap(boxes[i], boxes[j])) << what << ": '" << boxes[i].text << "' overlaps '" << boxes[j].text << "'";
}

std::vector<CurvePoint> run(int epochs) {
  std::vector<CurvePoint> pts;
  for (int e = 1; e <= epochs; ++e)
    pts.push_back({e, 0.5 / e, 0.95 + 0.04 * (1 - 1.0 / e), 0.4 / e, 0.97 + 0.02 * (1 - 1.0 / e), 0.3 / e, 0.975 + 0.015 * (1 - 1.0 / e)});
  return pts;
}

// Confusion counts of `k` classes, `n` images each, with a few errors of every size.
std::vector<int64_t> confusion(size_t k, int64_t n) {
  std::vector<int64_t> m(k * k, 0);
  for (size_t t = 0; t < k; ++t) {
    int64_t right = n;
    for (size_t p = 0; p < k; ++p)
      if (p != t && (t * 7 + p * 3) % 5 == 0) m[t * k + p] = static_cast<int64_t>((t + p) % 13), right -= m[t * k + p];
    m[t * k + t] = right;
  }
  return m;
}

TEST(Report, CurvesHaveThreePanelsWithTheirSeriesAndOneLegend) {
  const std::string svg = curves_svg(run(4), "seed on mnist: adam lr 0.001 cosine");
  EXPECT_EQ(svg.rfind("<svg xmlns='http://www.w3.org/2000/svg'", 0), 0u);
  EXPECT_EQ(count(svg, "stroke-width='2'/>"), 9);  // train, valid, test lines in each of 3 panels
  EXPECT_EQ(count(svg, "<circle "), 3 * 4 + 1);        // train's markers, and its legend entry
  EXPECT_EQ(count(svg, ">epoch</text>"), 3);
  EXPECT_EQ(count(svg, ">valid</text>"), 1);           // one legend, above the panels
  EXPECT_NE(svg.find(">seed on mnist: adam lr 0.001 cosine</text>"), std::string::npos);
  EXPECT_NE(svg.find("Error rate (log scale)"), std::string::npos);
  EXPECT_NE(svg.find(">1%</text>"), std::string::npos);
  expect_clean_layout(svg, "4 epochs");
  // Tick marks on both axes of every panel, and no marker on a frame: the x axis is padded.
  EXPECT_GE(count(svg, "stroke='#333' stroke-width='1.0'/>"), 3 * (4 + 3));  // 4 epochs, 3+ y ticks
  const std::regex frame("<rect x='([0-9.]+)' y='([0-9.]+)' width='([0-9.]+)' height='([0-9.]+)' fill='none' stroke='#333'/>");
  const std::regex circle("<circle cx='([0-9.]+)' cy='([0-9.]+)'");
  std::vector<std::array<double, 4>> frames;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), frame); it != std::sregex_iterator(); ++it)
    frames.push_back({std::stod((*it)[1]), std::stod((*it)[2]), std::stod((*it)[3]), std::stod((*it)[4])});
  ASSERT_EQ(frames.size(), 3u);
  int inside = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), circle); it != std::sregex_iterator(); ++it) {
    const double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
    for (const auto& f : frames)
      if (x > f[0] && x < f[0] + f[2] && y >= f[1] && y <= f[1] + f[3]) {
        EXPECT_GT(x - f[0], 10) << "a point on the left frame";
        EXPECT_GT(f[0] + f[2] - x, 10) << "a point on the right frame";
        ++inside;
      }
  }
  EXPECT_EQ(inside, 3 * 4);
  // The legend sits above every panel, where no data is drawn.
  for (const TextBox& b : text_boxes(svg))
    if (b.text == "train" || b.text == "valid" || b.text == "test")
      for (const auto& f : frames) EXPECT_LT(b.corners[2][1], f[1]) << "legend entry '" << b.text << "' inside a panel";
  // --valid 0 and --test-at-end: series without points are left out, legend included.
  std::vector<CurvePoint> pts = run(3);
  for (CurvePoint& p : pts) p.has_valid = false, p.has_test = p.epoch == 3;
  const std::string partial = curves_svg(pts);
  EXPECT_EQ(count(partial, ">valid</text>"), 0);
  EXPECT_EQ(count(partial, "stroke-width='2'/>"), 6);
  expect_clean_layout(partial, "no valid, test at end");
  expect_clean_layout(curves_svg(run(1)), "1 epoch");
  expect_clean_layout(curves_svg(run(100)), "100 epochs");
}

TEST(Report, ADivergedLossStaysOnAFiniteAxisAndIsMarked) {
  std::vector<CurvePoint> pts = run(5);
  pts[3].train_loss = 2.1761159569613458e28, pts[3].train_acc = 0.1;
  pts[4].train_loss = NAN, pts[4].valid_loss = NAN, pts[4].test_loss = NAN;
  const std::string svg = curves_svg(pts);
  EXPECT_NE(svg.find("off scale (diverged): train 2.18e+28 at epoch 4"), std::string::npos);
  for (const TextBox& b : text_boxes(svg)) {
    EXPECT_LT(b.text.size(), 80u) << b.text;
    EXPECT_EQ(b.text.find("nan"), std::string::npos) << b.text;
    EXPECT_EQ(b.text.find("inf"), std::string::npos) << b.text;
  }
  expect_clean_layout(svg, "diverged");
}

TEST(Report, CsvFilesQuoteClassNames) {
  const std::vector<std::string> classes = {"a,b", "say \"c\""};
  const std::vector<int64_t> m = {8, 2, 1, 9};  // true a,b: 8 right, 2 wrong; true c: 1 wrong, 9 right
  EXPECT_EQ(confusion_csv(classes, m), "true\\predicted,\"a,b\",\"say \"\"c\"\"\"\n\"a,b\",8,2\n\"say \"\"c\"\"\",1,9\n");
  EXPECT_EQ(per_class_csv(classes, m),
            "class,images,correct,accuracy\n\"a,b\",10,8,0.800000\n\"say \"\"c\"\"\",10,9,0.900000\n");
}

TEST(Report, ConfusionMatrixShadesErrorsByCountWithAKey) {
  const std::vector<int64_t> m = {970, 1, 9, 0, 1000, 0, 30, 0, 970};  // 1, 9 and 30 errors
  const std::string svg = confusion_svg({"<x>", "b", "c"}, m);
  EXPECT_NE(svg.find("&lt;x&gt;"), std::string::npos);  // class names escaped
  EXPECT_NE(svg.find(">errors</text>"), std::string::npos);  // the key, 1 to the worst error
  EXPECT_NE(svg.find(">30</text>"), std::string::npos);
  EXPECT_NE(svg.find(">97.0%</text>"), std::string::npos);
  // Darker (lower green) for more errors, on a log scale: 1 < 9 < 30.
  auto green_of = [&](int64_t count) {
    const std::regex cell("fill='rgb\\(([0-9]+),([0-9]+),[0-9]+\\)' stroke='#bbb'/>\\n<text [^>]*>" + std::to_string(count) + "<");
    std::smatch match;
    EXPECT_TRUE(std::regex_search(svg, match, cell)) << count;
    return std::stoi(match[2]);
  };
  EXPECT_GT(green_of(1), green_of(9));
  EXPECT_GT(green_of(9), green_of(30));
  expect_clean_layout(svg, "3 classes");
}

// Whether xmllint (libxml2-utils, scripts/install-deps) takes `svg` as well-formed XML.
bool xmllint_accepts(const std::string& svg, const std::string& name) {
  const std::string path = testing::TempDir() + "/" + name + ".svg";
  std::ofstream(path, std::ios::binary) << svg;
  return std::system(("xmllint --noout " + path + " 2>/dev/null").c_str()) == 0;
}

// Whatever bytes a title (a --data path) or a class name holds, the reports are well-formed XML
// that shows them (issue 20): control bytes and invalid UTF-8 as \xNN, markup escaped.
TEST(Report, ReportsAreWellFormedXmlWhateverTheBytes) {
  ASSERT_TRUE(xmllint_accepts("<svg xmlns='http://www.w3.org/2000/svg'/>", "plain")) << "xmllint is missing";
  ASSERT_FALSE(xmllint_accepts("<svg xmlns='http://www.w3.org/2000/svg'><text>\x01</text></svg>", "control"));
  const std::string hostile[] = {std::string("data/\x01\x1b[2J\x7f"), "bad \xff\xfe utf-8 \xc3", "\xc2\x85 C1 and \xef\xbf\xbe",
                                 "<script>&amp;'\"</script>", std::string("nul \0 byte", 10), "\xe2\x82"};
  for (const std::string& h : hostile) {
    const std::string curves = curves_svg(run(3), "seed on " + h);
    EXPECT_TRUE(xmllint_accepts(curves, "curves")) << curves.substr(0, 400);
    const std::string matrix = confusion_svg({h, "b" + h, "c"}, confusion(3, 100));
    EXPECT_TRUE(xmllint_accepts(matrix, "confusion")) << matrix.substr(0, 400);
    EXPECT_EQ(matrix.find("<script"), std::string::npos);
  }
  EXPECT_NE(curves_svg(run(2), "a\x1b" "b").find(">a\\x1bb</text>"), std::string::npos);  // shown, not dropped
}

TEST(Report, ConfusionMatrixLaysItselfOutForItsLabels) {
  expect_clean_layout(confusion_svg({"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, confusion(10, 1000)), "MNIST");
  expect_clean_layout(confusion_svg({"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                     "Ankle boot"},
                                    confusion(10, 1000)),
                      "Fashion-MNIST");
  const std::vector<std::string> long_names = {"a class name far longer than any cell could hold, and longer still", "手書きの文字",
                                               "Ünïcödé ÅÄÖ", "x", "WWWWWWWWWWWWWWWWWWWWWWWW"};
  const std::string svg = confusion_svg(long_names, confusion(5, 100000));
  expect_clean_layout(svg, "long names");
  EXPECT_NE(svg.find("\xE2\x80\xA6"), std::string::npos);  // the longest name is shortened
  std::vector<std::string> balanced;  // EMNIST balanced: 47 classes
  for (int i = 0; i < 47; ++i) balanced.push_back(std::string(1, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"[i]));
  expect_clean_layout(confusion_svg(balanced, confusion(47, 2400)), "47 classes");
}

}  // namespace
}  // namespace inkwell
