#include "inkwell/train/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

namespace inkwell {

namespace {

std::string num(double v, int digits = 2) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

// A "nice" tick step covering `range` in about `ticks` steps: 1, 2 or 5 times a power of ten.
double tick_step(double range, int ticks) {
  const double raw = range / ticks, power = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

struct Series {
  const char* name;
  const char* colour;
  std::function<double(const CurvePoint&)> value;
};

// One panel at (x0, y0), plot area w x h, y from lo to hi; the legend goes where the curves are
// not: bottom right for rising curves (accuracy), top right for falling ones (loss).
std::string panel(const std::vector<CurvePoint>& pts, const std::vector<Series>& series, const char* title,
                  const char* y_label, double lo, double hi, int digits, double x0, double y0, double w, double h,
                  bool legend_at_bottom) {
  std::string s;
  const int first = pts.front().epoch, last = pts.back().epoch;
  auto px = [&](double e) { return x0 + (last == first ? w / 2 : (e - first) / (last - first) * w); };
  auto py = [&](double v) { return y0 + h - (v - lo) / (hi - lo) * h; };
  s += "<text x='" + num(x0 + w / 2) + "' y='" + num(y0 - 14) + "' text-anchor='middle' font-size='15' font-weight='bold'>" + title + "</text>\n";
  const double step = tick_step(hi - lo, 5);
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-12; v += step) {
    s += "<line x1='" + num(x0) + "' y1='" + num(py(v)) + "' x2='" + num(x0 + w) + "' y2='" + num(py(v)) + "' stroke='#ddd'/>\n";
    s += "<text x='" + num(x0 - 6) + "' y='" + num(py(v) + 4) + "' text-anchor='end' font-size='11'>" + num(v, digits) + "</text>\n";
  }
  const int epoch_step = std::max(1, (last - first) / 10);
  for (int e = first; e <= last; e += epoch_step)
    s += "<text x='" + num(px(e)) + "' y='" + num(y0 + h + 16) + "' text-anchor='middle' font-size='11'>" + std::to_string(e) + "</text>\n";
  s += "<rect x='" + num(x0) + "' y='" + num(y0) + "' width='" + num(w) + "' height='" + num(h) + "' fill='none' stroke='#333'/>\n";
  s += "<text x='" + num(x0 + w / 2) + "' y='" + num(y0 + h + 34) + "' text-anchor='middle' font-size='12'>epoch</text>\n";
  s += "<text transform='translate(" + num(x0 - 48) + "," + num(y0 + h / 2) + ") rotate(-90)' text-anchor='middle' font-size='12'>" + y_label + "</text>\n";
  for (const Series& ser : series) {
    std::string path;
    for (const CurvePoint& p : pts) {
      if (!p.has_valid && std::string(ser.name) == "valid") continue;
      path += (path.empty() ? "M" : " L") + num(px(p.epoch)) + "," + num(py(ser.value(p)));
      s += "<circle cx='" + num(px(p.epoch)) + "' cy='" + num(py(ser.value(p))) + "' r='3' fill='" + ser.colour + "'/>\n";
    }
    if (!path.empty()) s += "<path d='" + path + "' fill='none' stroke='" + ser.colour + "' stroke-width='2'/>\n";
  }
  double ly = legend_at_bottom ? y0 + h - 16.0 * static_cast<double>(series.size()) + 2 : y0 + 14;
  for (const Series& ser : series) {
    s += "<line x1='" + num(x0 + w - 90) + "' y1='" + num(ly - 4) + "' x2='" + num(x0 + w - 70) + "' y2='" + num(ly - 4) + "' stroke='" + ser.colour + "' stroke-width='2'/>\n";
    s += "<text x='" + num(x0 + w - 64) + "' y='" + num(ly) + "' font-size='12'>" + ser.name + "</text>\n";
    ly += 16;
  }
  return s;
}

}  // namespace

std::string curves_svg(const std::vector<CurvePoint>& pts, const std::string& title) {
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='960' height='380' font-family='sans-serif'>\n"
                  "<rect width='100%' height='100%' fill='white'/>\n";
  if (pts.empty()) return s + "</svg>\n";
  const std::vector<Series> acc = {{"train", "#1f77b4", [](const CurvePoint& p) { return 100 * p.train_acc; }},
                                   {"valid", "#ff7f0e", [](const CurvePoint& p) { return 100 * p.valid_acc; }},
                                   {"test", "#2ca02c", [](const CurvePoint& p) { return 100 * p.test_acc; }}};
  const std::vector<Series> loss = {{"train", "#1f77b4", [](const CurvePoint& p) { return p.train_loss; }},
                                    {"valid", "#ff7f0e", [](const CurvePoint& p) { return p.valid_loss; }},
                                    {"test", "#2ca02c", [](const CurvePoint& p) { return p.test_loss; }}};
  double acc_lo = 100, loss_hi = 0;
  for (const CurvePoint& p : pts) {
    acc_lo = std::min({acc_lo, 100 * p.train_acc, 100 * p.test_acc, p.has_valid ? 100 * p.valid_acc : 100.0});
    loss_hi = std::max({loss_hi, p.train_loss, p.test_loss, p.has_valid ? p.valid_loss : 0.0});
  }
  acc_lo = std::max(0.0, std::floor(acc_lo - 0.5));
  s += panel(pts, acc, "Accuracy", "accuracy (%)", acc_lo, 100, acc_lo > 90 ? 1 : 0, 70, 40, 380, 280, true);
  s += panel(pts, loss, "Loss", "cross-entropy loss", 0, loss_hi * 1.05, 3, 560, 40, 380, 280, false);
  return s + "</svg>\n";
}

std::string confusion_csv(const std::vector<std::string>& classes, const std::vector<int64_t>& m) {
  std::string s = "true\\predicted";
  for (const auto& c : classes) s += "," + c;
  s += "\n";
  const size_t k = classes.size();
  for (size_t t = 0; t < k; ++t) {
    s += classes[t];
    for (size_t p = 0; p < k; ++p) s.append(",").append(std::to_string(m[t * k + p]));
    s += "\n";
  }
  return s;
}

std::string per_class_csv(const std::vector<std::string>& classes, const std::vector<int64_t>& m) {
  std::string s = "class,images,correct,accuracy\n";
  const size_t k = classes.size();
  for (size_t t = 0; t < k; ++t) {
    int64_t n = 0;
    for (size_t p = 0; p < k; ++p) n += m[t * k + p];
    s += classes[t] + "," + std::to_string(n) + "," + std::to_string(m[t * k + t]) + "," +
         num(n ? static_cast<double>(m[t * k + t]) / n : 0.0, 6) + "\n";
  }
  return s;
}

std::string confusion_svg(const std::vector<std::string>& classes, const std::vector<int64_t>& m) {
  const size_t k = classes.size();
  const double cell = 44, left = 110, top = 70;
  const double size = left + cell * k + 120;
  std::string s = "<svg xmlns='http://www.w3.org/2000/svg' width='" + num(size, 0) + "' height='" + num(top + cell * k + 50, 0) +
                  "' font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n";
  s += "<text x='" + num(left + cell * k / 2) + "' y='24' text-anchor='middle' font-size='15' font-weight='bold'>Confusion matrix (test set)</text>\n";
  s += "<text x='" + num(left + cell * k / 2) + "' y='48' text-anchor='middle' font-size='12'>predicted</text>\n";
  s += "<text transform='translate(18," + num(top + cell * k / 2) + ") rotate(-90)' text-anchor='middle' font-size='12'>true</text>\n";
  for (size_t t = 0; t < k; ++t) {
    int64_t n = 0;
    for (size_t p = 0; p < k; ++p) n += m[t * k + p];
    s += "<text x='" + num(left - 6) + "' y='" + num(top + cell * t + cell / 2 + 4) + "' text-anchor='end' font-size='11'>" + escape(classes[t]) + "</text>\n";
    s += "<text x='" + num(left + cell * k + 8) + "' y='" + num(top + cell * t + cell / 2 + 4) + "' font-size='11'>" +
         num(n ? 100.0 * m[t * k + t] / n : 0.0, 1) + "%</text>\n";
    for (size_t p = 0; p < k; ++p) {
      // Share of the true class's images, on a square-root scale so that rare confusions show.
      const double share = n ? static_cast<double>(m[t * k + p]) / n : 0;
      const int shade = static_cast<int>(255 - 200 * std::sqrt(share));
      const std::string fill = t == p ? "rgb(" + std::to_string(shade) + "," + std::to_string(shade) + ",255)"
                                      : "rgb(255," + std::to_string(shade) + "," + std::to_string(shade) + ")";
      s += "<rect x='" + num(left + cell * p) + "' y='" + num(top + cell * t) + "' width='" + num(cell) + "' height='" + num(cell) +
           "' fill='" + fill + "' stroke='#999'/>\n";
      if (m[t * k + p])
        s += "<text x='" + num(left + cell * p + cell / 2) + "' y='" + num(top + cell * t + cell / 2 + 4) +
             "' text-anchor='middle' font-size='10'" + (share > 0.5 ? " fill='white'" : "") + ">" + std::to_string(m[t * k + p]) + "</text>\n";
    }
  }
  for (size_t p = 0; p < k; ++p)
    s += "<text x='" + num(left + cell * p + cell / 2) + "' y='" + num(top - 6) + "' text-anchor='middle' font-size='11'>" + escape(classes[p]) + "</text>\n";
  s += "<text x='" + num(left + cell * k + 8) + "' y='" + num(top - 6) + "' font-size='11'>accuracy</text>\n";
  return s + "</svg>\n";
}

}  // namespace inkwell
