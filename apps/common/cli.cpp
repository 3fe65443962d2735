#include "cli.hpp"

#include "inkwell/core/utf8.hpp"

#include <dnnl.h>
#include <oneapi/tbb/version.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

namespace inkwell::cli {

void say(std::FILE* to, const char* format, ...) {
  std::va_list args, again;
  va_start(args, format);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string text(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(text.data(), text.size() + 1, format, again);
  va_end(again);
  std::fputs(visible(text).c_str(), to);
}

std::string version_text(const std::string& app) {
  const dnnl_version_t* dnnl = dnnl_version();
  return app + " " INKWELL_VERSION " (oneDNN " + std::to_string(dnnl->major) + "." + std::to_string(dnnl->minor) + "." +
         std::to_string(dnnl->patch) + ", oneTBB " + TBB_runtime_version() + ")";
}

namespace {

// CLI11's layout with the descriptions wrapped to 100 columns, and each value shown as its name
// and default only ("--batch N=64"), not with its C++ type and validator.
class Formatter : public CLI::Formatter {
 public:
  Formatter() { column_width(kColumn); }
  std::string make_option_opts(const CLI::Option* opt) const override {
    if (opt->get_type_size() == 0) return "";  // a flag
    std::string out = " " + opt->get_type_name();
    if (!opt->get_default_str().empty()) out += "=" + opt->get_default_str();
    if (opt->get_expected_max() > 1) out += " ...";
    return out;
  }
  std::string make_option_desc(const CLI::Option* opt) const override {
    std::string out, word;
    size_t line = 0;
    std::istringstream words(opt->get_description());
    while (words >> word) {
      if (line && line + 1 + word.size() > kWidth - kColumn) out += "\n", line = 0;
      else if (line) out += " ", ++line;
      out += word, line += word.size();
    }
    return out;
  }

 private:
  static constexpr size_t kColumn = 30, kWidth = 100;
};

}  // namespace

void configure(CLI::App& app, const std::string& footer) {
  app.set_version_flag("--version", version_text(app.get_name()), "print the version (and oneDNN's, oneTBB's) and exit");
  app.set_help_flag("-h,--help", "print this help and exit");
  app.formatter(std::make_shared<Formatter>());
  app.option_defaults()->disable_flag_override();  // --resume=no is an error, not a silent yes
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // the last one counts, as in most tools
  app.footer(footer);
}

[[noreturn]] void usage_error(const CLI::App& app, const std::string& message) {
  cli::say(stderr, "%s: %s\nRun '%s --help' for the options.\n", app.get_name().c_str(), message.c_str(),
           app.get_name().c_str());
  std::exit(kUsage);
}

void parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(kOk);
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    std::exit(kOk);
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    std::exit(kOk);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    // CLI11's words for "--flag=value" on a flag: "resume was given a disallowed flag override".
    if (const size_t at = message.find(" was given a disallowed flag override"); at != std::string::npos)
      message = "--" + message.substr(message.find_first_not_of('-'), at - message.find_first_not_of('-')) + " takes no value";
    usage_error(app, message);
  }
}

CLI::Validator whole(int64_t min, int64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        int64_t v = 0;
        const char* end = text.data() + text.size();
        const bool digits = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-');
        const auto [ptr, ec] = std::from_chars(text.data(), end, v);
        if (!digits || ec == std::errc::invalid_argument || ptr != end) return "needs a whole number, got '" + text + "'";
        if (ec == std::errc::result_out_of_range || v < min || v > max)
          return "must be " + std::to_string(min) + " to " + std::to_string(max) + ", got " + text;
        return "";
      },
      "", "whole");
}

CLI::Validator real(double min, double max, bool open) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) return "needs a number, got '" + text + "'";
        if (v < min || v > max || (open && (v == min || v == max))) {
          char range[96];
          std::snprintf(range, sizeof range, open ? "must be between %g and %g (exclusive), got " : "must be %g to %g, got ", min, max);
          return range + text;
        }
        return "";
      },
      "", "real");
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& choices) {
  auto distance = [](const std::string& a, const std::string& b) {  // Levenshtein, one row
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
        diagonal = up;
      }
    }
    return row[b.size()];
  };
  for (const std::string& c : choices)  // a shortened name
    if (word.size() >= 2 && c.starts_with(word)) return c;
  std::string best;
  size_t best_distance = 3;  // two edits at most: a typo, not another word
  for (const std::string& c : choices)
    if (const size_t d = distance(word, c); d < best_distance && d < std::max<size_t>(c.size(), 2)) best = c, best_distance = d;
  return best;
}

void add_progress_option(CLI::App& app, ProgressMode& mode) {
  app.add_option_function<std::string>("--progress", [&mode](const std::string& text) { mode = parse_progress_mode(text); },
                                       "live status line on stderr: auto (when a terminal), always, never")
      ->type_name("MODE")
      ->check(one_of({"auto", "always", "never"}))
      ->default_str("auto");
}

void add_plan_option(CLI::App& app, std::string& plan) {
  app.add_option("--plan", plan,
                 "auto: the plan measured on this machine (cached; the first run measures it); measure: measure "
                 "again; rule: the static rule, no timing")
      ->type_name("auto|measure|rule")
      ->check(one_of({"auto", "measure", "rule"}))
      ->capture_default_str();
}

CLI::Validator one_of(std::vector<std::string> choices) {
  return CLI::Validator(
      [choices](std::string& text) -> std::string {
        if (std::find(choices.begin(), choices.end(), text) != choices.end()) return "";
        std::string message = "'" + text + "' is not one of ";
        for (size_t i = 0; i < choices.size(); ++i) message += (i ? ", " : "") + choices[i];
        if (const std::string near = did_you_mean(text, choices); !near.empty()) message += "; did you mean " + near + "?";
        return message;
      },
      "", "one_of");
}

}  // namespace inkwell::cli
