// inkwell-convert IN OUT: a model between inkwell's format (.inkw) and ONNX (.onnx), told by the
// extensions. To ONNX: the network (with QuantizeLinear/DequantizeLinear pairs when the model is
// calibrated for int8), the normalisation, classes and preprocessing style in its metadata,
// checked by onnx's checker. From ONNX: imported and checked as any .inkw is
// (onnx/onnx_model.hpp). .inkw -> .onnx -> .inkw keeps every weight bit for bit.
#include <cstdio>
#include <string>

#include "../common/cli.hpp"
#include "../common/model_source.hpp"
#include "inkwell/onnx/onnx_model.hpp"

using namespace inkwell;

int main(int argc, char** argv) {
  std::string in, out;
  cli::ModelSource source;
  CLI::App app("Converts a model between inkwell's format (.inkw) and ONNX (.onnx), by the files' extensions.",
               "inkwell-convert");
  cli::configure(app, "\nexit: 0 done, 1 error (named), 2 usage error\n");
  app.add_option("IN", in, "the model to read: .inkw or .onnx")->required()->type_name("IN")->check(CLI::ExistingFile);
  app.add_option("OUT", out, "where to write it: .inkw or .onnx")->required()->type_name("OUT");
  cli::add_model_source_options(app, source);
  cli::parse(app, argc, argv);
  return cli::run_or_report("inkwell-convert", [&] {
    const ModelFile model = cli::load_model_from(in, source);
    save_model(out, model);
    cli::say(stdout, "wrote %s (%s, %zu classes)\n", out.c_str(), model.architecture.spec.c_str(), model.classes.size());
    return cli::kOk;
  });
}
