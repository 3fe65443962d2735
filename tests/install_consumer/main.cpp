// Loads a model file with the installed headers and library, builds its network for inference,
// and prints its class count and the class it gives an all-zero image.
#include <algorithm>
#include <cstdio>

#include "inkwell/nn/model.hpp"
#include "inkwell/model_file/model_file.hpp"  // the model file

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer MODEL.inkw\n");
    return 2;
  }
  try {
    const inkwell::ModelFile file = inkwell::load_model_file(argv[1]);
    inkwell::Model model(file.architecture, 1, inkwell::Mode::infer);
    model.load_state(file.tensors);
    std::fill_n(model.src(), 28 * 28, 0.f);
    model.forward();
    const float* logits = model.dst();
    const auto best = std::max_element(logits, logits + model.classes()) - logits;
    std::printf("classes %lld, blank image -> %s\n", static_cast<long long>(model.classes()), file.classes[best].c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
