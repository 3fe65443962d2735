#include "model_source.hpp"

#include <fstream>

#include "inkwell/core/error.hpp"
#include "inkwell/core/read_file.hpp"

namespace inkwell::cli {

void add_model_source_options(CLI::App& app, ModelSource& source) {
  app.add_option("--normalize", source.normalize,
                 "an ONNX model's input normalisation, (pixel / 255 - MEAN) / STD, when its file does not say "
                 "(default 0.1307,0.3081: MNIST's, as torchvision's Normalize)")
      ->type_name("MEAN,STD");
  app.add_option("--classes", source.classes_file,
                 "an ONNX model's class names, one a line, when its file does not say (default 0, 1, ...)")
      ->type_name("FILE");
}

ModelFile load_model_from(const std::string& path, const ModelSource& source) {
  OnnxImportOptions options;
  if (!source.normalize.empty()) {
    Normalization n{};
    char extra = 0;
    if (std::sscanf(source.normalize.c_str(), "%f,%f%c", &n.mean, &n.std, &extra) != 2)
      throw error("--normalize takes MEAN,STD, got '", source.normalize, "'");
    options.normalization = n;
  }
  if (!source.classes_file.empty()) {
    const std::vector<uint8_t> bytes = read_regular_file(source.classes_file, 1 << 20);
    std::string line;
    for (uint8_t b : bytes) {
      if (b == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        options.classes.push_back(line);
        line.clear();
      } else {
        line += static_cast<char>(b);
      }
    }
    if (!line.empty()) options.classes.push_back(line);
  }
  if (!is_onnx_path(path) && (options.normalization || !options.classes.empty()))
    throw error(path, ": --normalize and --classes are for ONNX models; an .inkw file carries its own");
  return load_model(path, options);
}

}  // namespace inkwell::cli
