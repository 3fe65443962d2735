// One ONNX file in OpenCV dnn (Debian's libopencv-dnn-dev), as its C++ users would run it, for the
// side-by-side table of docs/performance.md: in memory (MNIST's 10k test images, normalised as
// given, blobFromImages, forward at batch 256 and batch 1), end to end over a folder of PNGs
// (imread grey, blobFromImages, forward per 256, one CSV row a file), and how often it gives
// inkwell-classify's label (--labels CSV from the same folder). Not part of the build (Debian
// ships no CMake config with the dnn package alone); build and run it by hand:
//   g++ -O2 -std=c++17 bench/compare_opencv.cpp -I/usr/include/opencv4 -lopencv_dnn -lopencv_imgcodecs
//       -lopencv_imgproc -lopencv_core -o compare_opencv
//   compare_opencv MODEL.onnx IDX_DIR TREE MEAN STD [LABELS.csv]
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

static std::vector<unsigned char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: compare_opencv MODEL.onnx IDX_DIR TREE MEAN STD [LABELS.csv]\n");
    return 2;
  }
  const std::string model = argv[1], idx = argv[2], tree = argv[3];
  const double mean = std::stod(argv[4]), stdev = std::stod(argv[5]);
  cv::dnn::Net net = cv::dnn::readNetFromONNX(model);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  cv::setNumThreads(2);

  // In memory: the IDX test images as 28x28 CV_8U Mats.
  const std::vector<unsigned char> raw = read_all(idx + "/t10k-images-idx3-ubyte");
  if (raw.size() < 16 + 10000 * 784) {
    std::fprintf(stderr, "%s/t10k-images-idx3-ubyte: missing or short (uncompressed IDX expected)\n", idx.c_str());
    return 1;
  }
  std::vector<cv::Mat> images;
  for (int i = 0; i < 10000; ++i) images.emplace_back(28, 28, CV_8U, const_cast<unsigned char*>(raw.data() + 16 + i * 784));
  // blobFromImages: (x * scale - mean) with scale 1/(255 std) and mean (mean / std) * 255 * scale.
  const double scale = 1.0 / (255.0 * stdev);
  const cv::Scalar shift(mean / stdev / scale);
  for (int batch : {256, 1}) {
    const int n = batch == 1 ? 2000 : 9984;
    std::vector<double> rates;
    for (int r = 0; r < 3; ++r) {
      const auto t0 = Clock::now();
      for (int i = 0; i + batch <= n; i += batch) {
        std::vector<cv::Mat> part(images.begin() + i, images.begin() + i + batch);
        net.setInput(cv::dnn::blobFromImages(part, scale, cv::Size(), shift));
        cv::Mat out = net.forward();
      }
      rates.push_back(n / std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(rates.begin(), rates.end());
    std::printf("OpenCV dnn %s in memory, batch %d: %.0f img/s\n", CV_VERSION, batch, rates[1]);
  }

  // End to end: walk, imread, batch, forward, a row a file.
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(tree))
    if (e.is_regular_file() && e.path().extension() == ".png") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::map<std::string, int> labels;
  std::vector<double> rates;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = Clock::now();
    std::string csv = "path,label,confidence\n";
    for (size_t i = 0; i < files.size(); i += 256) {
      std::vector<cv::Mat> part;
      for (size_t k = i; k < std::min(files.size(), i + 256); ++k) part.push_back(cv::imread(files[k], cv::IMREAD_GRAYSCALE));
      net.setInput(cv::dnn::blobFromImages(part, scale, cv::Size(), shift));
      const cv::Mat out = net.forward();
      for (int k = 0; k < out.rows; ++k) {
        cv::Point best;
        double top;
        cv::minMaxLoc(out.row(k), nullptr, &top, nullptr, &best);
        labels[files[i + k]] = best.x;
        csv += files[i + k] + "," + std::to_string(best.x) + "," + std::to_string(top) + "\n";
      }
    }
    rates.push_back(files.size() / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(rates.begin(), rates.end());
  std::printf("OpenCV dnn end to end over %s: %.0f img/s (imread, blobFromImages, batch 256)\n", tree.c_str(), rates[1]);

  if (argc > 6) {  // inkwell-classify's rows for the same files
    std::ifstream in(argv[6]);
    std::string line;
    std::getline(in, line);
    int same = 0, rows = 0;
    while (std::getline(in, line)) {
      const size_t a = line.find(','), b = line.find(',', a + 1);
      const auto it = labels.find(line.substr(0, a));
      if (it == labels.end()) continue;
      ++rows;
      same += std::to_string(it->second) == line.substr(a + 1, b - a - 1);
    }
    std::printf("OpenCV dnn gives inkwell's label on %d of %d files\n", same, rows);
  }
  return 0;
}
