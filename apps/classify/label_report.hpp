// --labels-from-dirs: each file's parent folder is its true label; counts a confusion matrix and
// prints per-class accuracy and the matrix on stderr at the end. Rows kept by --resume count too.
#pragma once

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../common/cli.hpp"
#include "inkwell/classify/classify.hpp"

namespace inkwell::classify_app {

class LabelReport {  // --labels-from-dirs
 public:
  explicit LabelReport(const std::vector<std::string>& classes) : classes_(classes), confusion_(classes.size(), std::vector<int64_t>(classes.size())) {
    for (size_t i = 0; i < classes.size(); ++i) index_[classes[i]] = static_cast<int>(i);
  }
  void add(const Prediction& p) {
    if (p.error.empty()) add(p.path, p.labels[0]);
  }
  // A row kept from before (--resume): scored like the new ones.
  void add(const std::string& path, const std::string& label) {
    if (!label.empty()) add(path, index_.at(label));
  }
  void print() const {
    int64_t total = 0, right = 0;
    cli::say(stderr, "per-class accuracy:\n");
    for (size_t t = 0; t < classes_.size(); ++t) {
      int64_t n = 0;
      for (int64_t c : confusion_[t]) n += c;
      total += n, right += confusion_[t][t];
      if (n) cli::say(stderr, "  %-12s %7.2f%%  (%lld images)\n", classes_[t].c_str(), 100.0 * confusion_[t][t] / n, static_cast<long long>(n));
    }
    cli::say(stderr, "confusion matrix (rows: true label, columns: predicted):\n%12s", "");
    for (const auto& c : classes_) cli::say(stderr, " %6.6s", c.c_str());
    cli::say(stderr, "\n");
    for (size_t t = 0; t < classes_.size(); ++t) {
      cli::say(stderr, "  %-10.10s", classes_[t].c_str());
      for (int64_t c : confusion_[t]) cli::say(stderr, " %6lld", static_cast<long long>(c));
      cli::say(stderr, "\n");
    }
    if (unknown_) cli::say(stderr, "%lld images were in folders not named after a class: not scored\n", static_cast<long long>(unknown_));
    cli::say(stderr, "accuracy: %.4f (%lld of %lld)\n", total ? static_cast<double>(right) / total : 0.0,
             static_cast<long long>(right), static_cast<long long>(total));
  }

 private:
  void add(const std::string& path, int predicted) {
    const auto it = index_.find(std::filesystem::path(path).parent_path().filename().string());
    if (it == index_.end()) {
      ++unknown_;
      return;
    }
    ++confusion_[it->second][predicted];
  }

  std::vector<std::string> classes_;
  std::map<std::string, int> index_;
  std::vector<std::vector<int64_t>> confusion_;
  int64_t unknown_ = 0;
};

}  // namespace inkwell::classify_app
