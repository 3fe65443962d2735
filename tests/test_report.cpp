#include <gtest/gtest.h>

#include <string>

#include "inkwell/train/report.hpp"

namespace inkwell {
namespace {

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(Report, CurvesHaveTwoPanelsOfThreeLinesWithLegendAndAxes) {
  std::vector<CurvePoint> pts;
  for (int e = 1; e <= 4; ++e) pts.push_back({e, 0.5 / e, 0.9 + 0.02 * e, 0.4 / e, 0.92 + 0.01 * e, 0.3 / e, 0.93 + 0.01 * e});
  const std::string svg = curves_svg(pts);
  EXPECT_EQ(svg.rfind("<svg xmlns='http://www.w3.org/2000/svg'", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count(svg, "<path "), 6);          // train, valid, test in each panel
  EXPECT_EQ(count(svg, "<circle "), 24);       // a marker per epoch and line
  EXPECT_EQ(count(svg, ">epoch</text>"), 2);   // x-axis titles
  EXPECT_EQ(count(svg, ">valid</text>"), 2);   // legends
  EXPECT_NE(svg.find("accuracy (%)"), std::string::npos);
  EXPECT_NE(svg.find("cross-entropy loss"), std::string::npos);
  pts[1].has_valid = false;  // --valid 0: no valid points, no valid markers
  pts = {pts[1]};
  EXPECT_EQ(count(curves_svg(pts), "<circle "), 4);  // train and test, in both panels
}

TEST(Report, ConfusionCsvAndPerClassAccuracy) {
  const std::vector<std::string> classes = {"a", "b"};
  const std::vector<int64_t> m = {8, 2, 1, 9};  // true a: 8 right, 2 as b; true b: 1 as a, 9 right
  EXPECT_EQ(confusion_csv(classes, m), "true\\predicted,a,b\na,8,2\nb,1,9\n");
  EXPECT_EQ(per_class_csv(classes, m), "class,images,correct,accuracy\na,10,8,0.800000\nb,10,9,0.900000\n");
  const std::string svg = confusion_svg({"<x>", "b"}, m);
  EXPECT_NE(svg.find("&lt;x&gt;"), std::string::npos);  // class names escaped
  EXPECT_EQ(count(svg, "<rect "), 5);                    // background + 4 cells
  EXPECT_NE(svg.find(">80.0%<"), std::string::npos);
}

}  // namespace
}  // namespace inkwell
