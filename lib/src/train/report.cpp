#include "inkwell/train/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

#include "inkwell/core/csv.hpp"
#include "inkwell/core/utf8.hpp"
#include "inkwell/train/svg_text.hpp"

namespace inkwell {

namespace {

std::string num(double v, int digits = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A short label for an axis value: "0.25", "1e+03"; enough digits to tell ticks apart.
std::string tick_label(double v, double step) {
  char buf[32];
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3)) std::snprintf(buf, sizeof buf, "%.0e", v);
  else std::snprintf(buf, sizeof buf, "%.*f", std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9))), v);
  return buf;
}

// Any bytes as XML character data: made visible (core/utf8.hpp: no control byte, no invalid
// UTF-8, which XML refuses), then the five markup characters escaped.
std::string escape(const std::string& text) {
  std::string out;
  for (char c : visible(text)) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else if (c == '\'') out += "&apos;";
    else out += c;
  }
  return out;
}

// An SVG document built from a few primitives; every <text> goes through text(), whose size
// estimate (svg_text.hpp) the layout uses too.
class Svg {
 public:
  void text(double x, double y, const std::string& s, double size, const char* anchor = "start", const std::string& extra = "") {
    body_ += "<text x='" + num(x) + "' y='" + num(y) + "' font-size='" + num(size, 0) + "' text-anchor='" + anchor + "'" +
             extra + ">" + escape(s) + "</text>\n";
  }
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1, const std::string& extra = "") {
    body_ += "<line x1='" + num(x1) + "' y1='" + num(y1) + "' x2='" + num(x2) + "' y2='" + num(y2) + "' stroke='" + stroke +
             "' stroke-width='" + num(width) + "'" + extra + "/>\n";
  }
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& stroke = "none") {
    body_ += "<rect x='" + num(x) + "' y='" + num(y) + "' width='" + num(w) + "' height='" + num(h) + "' fill='" + fill +
             "' stroke='" + stroke + "'/>\n";
  }
  void raw(const std::string& s) { body_ += s; }
  std::string document(double width, double height) const {
    return "<svg xmlns='http://www.w3.org/2000/svg' width='" + num(width, 0) + "' height='" + num(height, 0) +
           "' viewBox='0 0 " + num(width, 0) + " " + num(height, 0) + "' font-family='DejaVu Sans, Arial, sans-serif'>\n" +
           "<rect width='100%' height='100%' fill='white'/>\n" + body_ + "</svg>\n";
  }

 private:
  std::string body_;
};

// A "nice" tick step covering `range` in about `ticks` steps: 1, 2 or 5 times a power of ten.
double tick_step(double range, int ticks) {
  const double raw = range / ticks, power = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

struct Series {
  const char* name;
  const char* colour;  // matplotlib's tab10: blue, orange, green
  const char* marker;  // circle, square, triangle: tells the lines apart without colour
  std::function<bool(const CurvePoint&)> present;
  std::function<double(const CurvePoint&)> value;
};

void marker(Svg& svg, const Series& s, double x, double y) {
  const std::string c = s.colour;
  if (std::string(s.marker) == "square") svg.rect(x - 3, y - 3, 6, 6, c);
  else if (std::string(s.marker) == "triangle")
    svg.raw("<path d='M" + num(x) + "," + num(y - 4) + " L" + num(x + 4) + "," + num(y + 3) + " L" + num(x - 4) + "," + num(y + 3) +
            " Z' fill='" + c + "'/>\n");
  else svg.raw("<circle cx='" + num(x) + "' cy='" + num(y) + "' r='3.2' fill='" + c + "'/>\n");
}

// One panel: plot area (x0, y0, w, h). y is linear from lo to hi, or log10 when `log`. Values
// above hi (a diverged loss) are drawn as arrows on the top edge and listed under the panel.
struct Axis {
  double lo, hi;
  bool log = false;
};

void panel(Svg& svg, const std::vector<CurvePoint>& pts, const std::vector<Series>& series, const std::string& title,
           const std::string& y_label, const Axis& axis, double x0, double y0, double w, double h,
           const std::function<std::string(double)>& format = {}) {
  const int first = pts.front().epoch, last = pts.back().epoch;
  const double pad = std::max(0.5, 0.04 * (last - first));  // no point sits on the frame
  auto px = [&](double e) { return x0 + (e - (first - pad)) / ((last + pad) - (first - pad)) * w; };
  auto ty = [&](double v) { return axis.log ? std::log10(v) : v; };
  auto py = [&](double v) { return y0 + h - (ty(v) - ty(axis.lo)) / (ty(axis.hi) - ty(axis.lo)) * h; };
  svg.text(x0 + w / 2, y0 - 10, title, 13, "middle", " font-weight='bold'");
  // y grid, ticks and labels
  std::vector<double> ticks;
  if (axis.log) {
    for (double d = std::floor(std::log10(axis.lo)); d <= std::ceil(std::log10(axis.hi)); ++d)
      for (double m : {1.0, 2.0, 5.0})
        if (const double v = m * std::pow(10, d); v >= axis.lo * 0.999 && v <= axis.hi * 1.001) ticks.push_back(v);
  } else {
    const double step = tick_step(axis.hi - axis.lo, 5);
    for (double i = std::ceil(axis.lo / step - 1e-9); i * step <= axis.hi + 1e-9 * step; ++i) ticks.push_back(i * step + 0.0);
  }
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  for (double v : ticks) {
    svg.line(x0, py(v), x0 + w, py(v), "#e5e5e5");
    svg.line(x0 - 5, py(v), x0, py(v), "#333");
    svg.text(x0 - 8, py(v) + 4, format ? format(v) : tick_label(v, axis.log ? v : step), 11, "end");
  }
  // x ticks: whole epochs, at most about 10 labels
  const int epoch_step = static_cast<int>(std::max(1.0, tick_step(std::max(1, last - first), 8)));
  for (int e = (first + epoch_step - 1) / epoch_step * epoch_step; e <= last; e += epoch_step) {
    if (e < first) continue;
    svg.line(px(e), y0 + h, px(e), y0 + h + 5, "#333");
    svg.text(px(e), y0 + h + 18, std::to_string(e), 11, "middle");
  }
  svg.rect(x0, y0, w, h, "none", "#333");
  svg.text(x0 + w / 2, y0 + h + 36, "epoch", 12, "middle");
  svg.text(0, 0, y_label, 12, "middle", " transform='translate(" + num(x0 - 52) + "," + num(y0 + h / 2) + ") rotate(-90)'");
  std::string off_scale;
  for (const Series& s : series) {
    std::string path;
    for (const CurvePoint& p : pts) {
      if (!s.present(p)) continue;
      const double v = s.value(p);
      const bool above = !(v <= axis.hi);  // NaN too
      const double y = above ? y0 : py(std::max(v, axis.lo));
      path += (path.empty() ? "M" : " L") + num(px(p.epoch)) + "," + num(y);
      if (above) {
        svg.raw("<path d='M" + num(px(p.epoch)) + "," + num(y0 - 1) + " l-5,9 l10,0 Z' fill='" + s.colour + "'/>\n");
        if (off_scale.empty()) {
          char buf[96];
          std::snprintf(buf, sizeof buf, "off scale (diverged): %s %.3g at epoch %d", s.name, v, p.epoch);
          off_scale = buf;
        }
      } else {
        marker(svg, s, px(p.epoch), y);
      }
    }
    if (!path.empty()) svg.raw("<path d='" + path + "' fill='none' stroke='" + s.colour + "' stroke-width='2'/>\n");
  }
  if (!off_scale.empty()) svg.text(x0 + w / 2, y0 + h + 54, off_scale, 11, "middle", " fill='#c00'");
}

}  // namespace

std::string curves_svg(const std::vector<CurvePoint>& pts, const std::string& title) {
  Svg svg;
  if (pts.empty()) return svg.document(400, 100);
  const std::vector<Series> all = {
      {"train", "#1f77b4", "circle", [](const CurvePoint&) { return true; }, {}},
      {"valid", "#ff7f0e", "square", [](const CurvePoint& p) { return p.has_valid; }, {}},
      {"test", "#2ca02c", "triangle", [](const CurvePoint& p) { return p.has_test; }, {}}};
  std::vector<Series> shown;
  for (const Series& s : all)
    if (std::any_of(pts.begin(), pts.end(), s.present)) shown.push_back(s);
  auto with = [&](std::function<double(const CurvePoint&, const char*)> f) {
    std::vector<Series> out = shown;
    for (Series& s : out) s.value = [f, name = s.name](const CurvePoint& p) { return f(p, name); };
    return out;
  };
  auto acc = [](const CurvePoint& p, const char* n) {
    return 100 * (n[1] == 'r' ? p.train_acc : n[0] == 'v' ? p.valid_acc : p.test_acc);
  };
  auto loss = [](const CurvePoint& p, const char* n) {
    return n[1] == 'r' ? p.train_loss : n[0] == 'v' ? p.valid_loss : p.test_loss;
  };
  std::vector<double> accs, losses;
  for (const CurvePoint& p : pts)
    for (const Series& s : shown)
      if (s.present(p)) accs.push_back(acc(p, s.name)), losses.push_back(loss(p, s.name));

  // Accuracy: from just below the lowest point to 100.
  const double acc_lo = std::max(0.0, std::floor(*std::min_element(accs.begin(), accs.end()) - 0.5));
  // Error rate on a log axis: the 98-100% band of a good run, spread over decades.
  double err_lo = 100, err_hi = 0.1;
  for (double a : accs) err_lo = std::min(err_lo, std::max(100 - a, 0.01)), err_hi = std::max(err_hi, 100 - a);
  // Out to the nearest 1-2-5 values around the data: 0.2% to 20%, not whole decades.
  auto nice = [](double v, bool up) {
    const double decade = std::pow(10, std::floor(std::log10(v)));
    for (double m : up ? std::vector<double>{1, 2, 5, 10} : std::vector<double>{5, 2, 1})
      if (up ? m * decade >= v * 0.999 : m * decade <= v * 1.001) return m * decade;
    return decade;
  };
  err_lo = nice(err_lo, false), err_hi = std::min(100.0, nice(err_hi, true));
  // Loss: 0 to the largest value, unless a few values dwarf the rest (a diverged run): then the
  // axis ends at 3x the median and those go off scale.
  std::vector<double> finite;
  for (double l : losses)
    if (std::isfinite(l)) finite.push_back(l);
  std::sort(finite.begin(), finite.end());
  double loss_hi = finite.empty() ? 1 : finite.back() * 1.08;
  const double median = finite.empty() ? 1 : finite[finite.size() / 2];
  if (finite.size() != losses.size() || loss_hi > 20 * median) loss_hi = 3 * median;
  if (!(loss_hi > 0)) loss_hi = 1;

  const double pw = 360, ph = 280, top = 96, left = 76, gap = 100;
  Svg& s = svg;
  const double width = left + 3 * pw + 2 * gap + 24, height = top + ph + 70;
  const std::string heading = title.empty() ? "Training curves" : title;
  s.text(width / 2, 24, fit_text(heading, 15, width - 20), 15, "middle", " font-weight='bold'");
  // The legend: one row under the title, outside every plot area, so it never covers data.
  double lx = width / 2 - 0.5 * (static_cast<double>(shown.size()) * 90 - 30);
  for (const Series& ser : shown) {
    s.line(lx, 49, lx + 24, 49, ser.colour, 2);
    marker(s, ser, lx + 12, 49);
    s.text(lx + 30, 53, ser.name, 12);
    lx += 90;
  }
  panel(s, pts, with(acc), "Accuracy", "accuracy (%)", {acc_lo, 100}, left, top, pw, ph);
  panel(s, pts, with([&](const CurvePoint& p, const char* n) { return std::max(100 - acc(p, n), err_lo); }),
        "Error rate (log scale)", "error (%)", {err_lo, err_hi, true}, left + pw + gap, top, pw, ph,
        [](double v) { return tick_label(v, v) + "%"; });
  panel(s, pts, with(loss), "Loss", "cross-entropy loss", {0, loss_hi}, left + 2 * (pw + gap), top, pw, ph);
  return svg.document(width, height);
}

std::string confusion_csv(const std::vector<std::string>& classes, const std::vector<int64_t>& m) {
  std::string s = "true\\predicted";
  for (const auto& c : classes) s += "," + csv_field(c);
  s += "\n";
  const size_t k = classes.size();
  for (size_t t = 0; t < k; ++t) {
    s += csv_field(classes[t]);
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
    s += csv_field(classes[t]) + "," + std::to_string(n) + "," + std::to_string(m[t * k + t]) + "," +
         num(n ? static_cast<double>(m[t * k + t]) / n : 0.0, 6) + "\n";
  }
  return s;
}

std::string confusion_svg(const std::vector<std::string>& classes, const std::vector<int64_t>& m) {
  const size_t k = classes.size();
  const double font = k > 30 ? 9 : 11;
  double label = 0;  // the widest class name
  for (const std::string& c : classes) label = std::max(label, text_width(c, font));
  label = std::min(label, 240.0);  // longer names are shortened with an ellipsis
  int64_t total = 0, right = 0, worst = 0;
  for (size_t t = 0; t < k; ++t)
    for (size_t p = 0; p < k; ++p) {
      total += m[t * k + p];
      if (t == p) right += m[t * k + p];
      else worst = std::max(worst, m[t * k + p]);
    }
  int64_t largest = 0;
  for (int64_t v : m) largest = std::max(largest, v);
  // Cells fit their counts; column names are written at 45 degrees when wider than a cell.
  const double cell = std::clamp(text_width(std::to_string(largest), font - 1) + 10, k > 30 ? 20.0 : 30.0, 44.0);
  const bool slanted = label > cell - 4;
  const double header = slanted ? label * 0.71 + font + 8 : font + 8;
  const double left = 40 + label + 8, top = 62 + header;
  const double grid = cell * static_cast<double>(k);
  const double key_x = left + grid + 70, key_h = std::min(grid, 220.0);
  const double width = std::max(key_x + 90, 2 * (text_width("Confusion matrix (test set)", 15) / 2 + 10));
  const double height = top + std::max(grid, font + std::min(grid, 220.0) + font) + 40;

  Svg s;
  char heading[160];
  std::snprintf(heading, sizeof heading, "Confusion matrix: %lld images, accuracy %.2f%%", static_cast<long long>(total),
                total ? 100.0 * static_cast<double>(right) / static_cast<double>(total) : 0.0);
  s.text(width / 2, 22, fit_text(heading, 15, width - 20), 15, "middle", " font-weight='bold'");
  s.text(left + grid / 2, 46, "predicted", 12, "middle");
  s.text(0, 0, "true", 12, "middle", " transform='translate(18," + num(top + grid / 2) + ") rotate(-90)'");
  // Errors are shaded by count on a log scale, 1 to the largest error: the worst confusions
  // stand out however rare they are. Correct cells are outlined in blue instead, so their large
  // counts do not drown the scale.
  auto shade = [&](int64_t count) {
    if (count == 0 || worst == 0) return 0.0;
    return 0.15 + 0.85 * std::log(static_cast<double>(count)) / std::log(std::max<double>(2, static_cast<double>(worst)));
  };
  auto red = [](double share) {
    const int g = static_cast<int>(std::lround(255 - 215 * share));
    return "rgb(" + std::to_string(255 - static_cast<int>(std::lround(75 * share))) + "," + std::to_string(g) + "," +
           std::to_string(g) + ")";
  };
  for (size_t t = 0; t < k; ++t) {
    int64_t n = 0;
    for (size_t p = 0; p < k; ++p) n += m[t * k + p];
    const double y = top + cell * static_cast<double>(t);
    s.text(left - 6, y + cell / 2 + font / 3, fit_text(classes[t], font, label), font, "end");
    s.text(left + grid + 8, y + cell / 2 + font / 3, num(n ? 100.0 * m[t * k + t] / n : 0.0, 1) + "%", font);
    for (size_t p = 0; p < k; ++p) {
      const int64_t c = m[t * k + p];
      const double x = left + cell * static_cast<double>(p), share = t == p ? 0 : shade(c);
      s.rect(x, y, cell, cell, t == p ? "rgb(222,235,247)" : red(share), "#bbb");
      if (c)
        s.text(x + cell / 2, y + cell / 2 + (font - 1) / 3, std::to_string(c), font - 1, "middle",
               share > 0.6 ? " fill='white'" : "");
    }
  }
  for (size_t p = 0; p < k; ++p) {
    const double x = left + cell * static_cast<double>(p) + cell / 2;
    const std::string name = fit_text(classes[p], font, label);
    if (slanted)
      s.text(x, top - 6, name, font, "start", " transform='rotate(-45 " + num(x) + "," + num(top - 6) + ")'");
    else
      s.text(x, top - 6, name, font, "middle");
  }
  s.text(left + grid + 8, top - 6, "recall", font);
  // The key: the error scale, log-spaced ticks from 1 to the worst count.
  s.text(key_x, top - 6, "errors", font);
  const double key_top = top + font;  // below its title, with room for the top tick's label
  const int steps = 32;
  for (int i = 0; i < steps; ++i)
    s.rect(key_x, key_top + key_h * (1 - (i + 1.0) / steps), 14, key_h / steps + 0.5, red(0.15 + 0.85 * i / (steps - 1.0)));
  s.rect(key_x, key_top, 14, key_h, "none", "#999");
  if (worst > 0) {
    // From the worst count down, 1-2-5 steps, each label placed only where it has room.
    std::vector<int64_t> ticks = {worst};
    for (int64_t decade = 1; decade < worst; decade *= 10)
      for (int64_t m : {1, 2, 5})
        if (m * decade < worst) ticks.push_back(m * decade);
    std::sort(ticks.rbegin(), ticks.rend());
    double last_y = -1e9;
    for (int64_t v : ticks) {
      const double y = key_top + key_h * (1 - (worst == 1 ? 1.0 : std::log(static_cast<double>(v)) / std::log(static_cast<double>(worst))));
      if (y - last_y < font + 2) continue;  // labels never touch
      s.line(key_x + 14, y, key_x + 18, y, "#333");
      s.text(key_x + 21, y + font / 3, std::to_string(v), font);
      last_y = y;
    }
  } else {
    s.text(key_x + 21, key_top + key_h / 2, "none", font);
  }
  return s.document(width, height);
}

}  // namespace inkwell
