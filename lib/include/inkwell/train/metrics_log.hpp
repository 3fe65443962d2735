// metrics.csv, one row per finished epoch, and the report files rewritten from it every epoch.
//   epoch,train_loss,train_acc,valid_loss,valid_acc,test_loss,test_acc,images_per_sec,seconds,lr
// valid_* are blank with --valid 0, test_* before the last epoch with --test-at-end; lr is the
// rate of the epoch's last step; seconds are its training steps plus its validation pass.
#pragma once

#include <string>
#include <vector>

#include "inkwell/train/report.hpp"
#include "inkwell/train/train.hpp"

namespace inkwell {

struct EpochRow {
  std::string csv;   // the metrics.csv line, without its newline
  CurvePoint point;  // what curves.svg draws
};

// `valid` and `test` are null where the epoch has no such figures.
EpochRow make_row(int epoch, const Metrics& train, const Metrics* valid, const Metrics* test, double lr);

// The rows of an existing metrics.csv (--resume), checked to be this program's, epochs 1..n.
// Files of inkwell 0.1 (no lr column) are read too; their rows get a blank lr.
std::vector<EpochRow> read_rows(const std::string& path, int epochs_done);

// metrics.csv, curves.svg (titled `title`) and, when `confusion` is not empty, confusion.csv,
// confusion.svg and per_class.csv, each written atomically into `dir`.
void write_reports(const std::string& dir, const std::vector<EpochRow>& rows, const std::string& title,
                   const std::vector<std::string>& classes, const std::vector<int64_t>& confusion);

}  // namespace inkwell
