#include "inkwell/train/metrics_log.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "inkwell/core/atomic_file.hpp"
#include "inkwell/core/csv.hpp"
#include "inkwell/core/error.hpp"

namespace fs = std::filesystem;

namespace inkwell {

namespace {

const char* kHeader = "epoch,train_loss,train_acc,valid_loss,valid_acc,test_loss,test_acc,images_per_sec,seconds,lr";
const char* kHeaderWithoutLr = "epoch,train_loss,train_acc,valid_loss,valid_acc,test_loss,test_acc,images_per_sec,seconds";

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string six_digits(double v) {  // the lr column: 0.001, 1.90385e-08
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

double number(const std::string& path, const std::string& line, const std::string& field) {
  try {
    size_t used = 0;
    const double v = std::stod(field, &used);
    if (used == field.size()) return v;
  } catch (const std::exception&) {
  }
  throw error(path, ": unexpected row '", line, "'");
}

}  // namespace

EpochRow make_row(int epoch, const Metrics& train, const Metrics* valid, const Metrics* test, double lr) {
  auto pair = [](const Metrics* m) { return m ? fixed(m->loss, 6) + "," + fixed(m->accuracy, 6) : std::string(","); };
  const double seconds = train.seconds + (valid ? valid->seconds : 0);
  EpochRow row;
  row.csv = std::to_string(epoch) + "," + fixed(train.loss, 6) + "," + fixed(train.accuracy, 6) + "," + pair(valid) + "," +
            pair(test) + "," + fixed(train.images / train.seconds, 1) + "," + fixed(seconds, 3) + "," + six_digits(lr);
  row.point = {epoch, train.loss, train.accuracy, valid ? valid->loss : 0, valid ? valid->accuracy : 0,
               test ? test->loss : 0, test ? test->accuracy : 0, valid != nullptr, test != nullptr};
  return row;
}

std::vector<EpochRow> read_rows(const std::string& path, int epochs_done) {
  if (epochs_done == 0) return {};  // interrupted in epoch 1: no metrics yet
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line) || (line != kHeader && line != kHeaderWithoutLr))
    throw error(path, ": missing, or not a metrics file of inkwell-train");
  const bool has_lr = line == kHeader;
  std::vector<EpochRow> rows;
  while (static_cast<int>(rows.size()) < epochs_done && std::getline(in, line)) {
    const std::vector<CsvRow> parsed = parse_csv(line, path);
    const std::vector<std::string> f = parsed.empty() ? std::vector<std::string>{} : parsed[0].fields;
    if (f.size() != (has_lr ? 10u : 9u) || f[0] != std::to_string(rows.size() + 1)) throw error(path, ": unexpected row '", line, "'");
    const bool has_valid = !f[3].empty(), has_test = !f[5].empty();
    auto value = [&](size_t i, bool present) { return present ? number(path, line, f[i]) : 0.0; };
    rows.push_back({has_lr ? line : line + ",",
                    {static_cast<int>(rows.size()) + 1, value(1, true), value(2, true), value(3, has_valid), value(4, has_valid),
                     value(5, has_test), value(6, has_test), has_valid, has_test}});
  }
  if (static_cast<int>(rows.size()) != epochs_done) throw error(path, ": ", rows.size(), " rows, the checkpoint has ", epochs_done, " epochs done");
  return rows;
}

void write_reports(const std::string& dir, const std::vector<EpochRow>& rows, const std::string& title,
                   const std::vector<std::string>& classes, const std::vector<int64_t>& confusion) {
  std::string csv = std::string(kHeader) + "\n";
  std::vector<CurvePoint> points;
  for (const EpochRow& r : rows) csv += r.csv + "\n", points.push_back(r.point);
  write_file_atomically((fs::path(dir) / "metrics.csv").string(), csv);
  write_file_atomically((fs::path(dir) / "curves.svg").string(), curves_svg(points, title));
  if (confusion.empty()) return;
  write_file_atomically((fs::path(dir) / "confusion.csv").string(), confusion_csv(classes, confusion));
  write_file_atomically((fs::path(dir) / "confusion.svg").string(), confusion_svg(classes, confusion));
  write_file_atomically((fs::path(dir) / "per_class.csv").string(), per_class_csv(classes, confusion));
}

}  // namespace inkwell
