// Training reports as self-contained files: SVG curves of accuracy and loss per epoch (train,
// valid, test), and the confusion matrix as CSV and as an SVG heat map, with per-class accuracy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace inkwell {

struct CurvePoint {
  int epoch;
  double train_loss, train_acc, valid_loss, valid_acc, test_loss, test_acc;
  bool has_valid = true;
  bool has_test = true;  // false before the last epoch with --test-at-end
};

// Two panels, accuracy and loss against epoch, one line per split, with axes, grid and legend.
std::string curves_svg(const std::vector<CurvePoint>& points, const std::string& title = "");

// confusion[t * classes + p]: images of true class t predicted as p.
std::string confusion_csv(const std::vector<std::string>& classes, const std::vector<int64_t>& confusion);
std::string confusion_svg(const std::vector<std::string>& classes, const std::vector<int64_t>& confusion);
// class,images,correct,accuracy
std::string per_class_csv(const std::vector<std::string>& classes, const std::vector<int64_t>& confusion);

}  // namespace inkwell
