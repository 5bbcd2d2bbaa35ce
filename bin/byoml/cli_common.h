// Pieces every byoml subcommand shares: options generated from parameter declarations, the
// template in use, the input options, and exit codes.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "byoml/common/params.h"
#include "byoml/sources/input_set.h"
#include "byoml/templates/detection_template.h"

namespace byoml::cli {

// Exit codes (also listed in `byoml --help`).
enum Exit : int {
  kExitOk = 0,
  kExitFailure = 1,      // the job could not be done (I/O error, nothing readable)
  kExitUsage = 2,        // bad command line or option value
  kExitBadInput = 3,     // done, but records were rejected and --strict was given
};

// Adds one option per declared parameter; apply() moves the given ones into `params`.
class ParamOptions {
 public:
  void add(CLI::App* app, const std::vector<ParamSpec>& specs, const std::string& group);
  Status apply(ParamSet& params) const;
  std::vector<std::string> given() const;  // names of the parameters set on the command line

 private:
  std::vector<std::pair<std::string, CLI::Option*>> options_;
  std::map<std::string, std::string> values_;
};

// --input/--from/--to/--template/--rejects and the reader parameters.
struct InputOptions {
  std::vector<std::string> paths;
  std::string from, to;
  std::string rejects_path;
  bool strict = false;
  ParamSet reader_params{reader_param_specs()};
  ParamOptions reader_options;

  void add(CLI::App* app, bool positional);
  // Resolves the options into ReadOptions (window, tunables); errors are usage errors.
  Result<ReadOptions> read_options() const;
};

// The template named by --template (pre-scanned from argv so that its parameters become
// options), or the built-in one.
struct TemplateChoice {
  std::string path;
  std::shared_ptr<DetectionTemplate> tmpl;
  ParamSet values;
  ParamOptions options;

  Status load(int argc, char** argv);
  void add(CLI::App* app);
};

int report_error(const Status& st);
// Writes a run's health row to the results store; a failure to do so is a warning only.
void record_health(const std::string& store_path, const nlohmann::json& row);
std::string now_text();

// Progress lines on standard error, each with the seconds since the command started.
std::function<void(const std::string&)> progress_logger();
std::string human_bytes(uint64_t n);
std::string with_commas(uint64_t n);

}  // namespace byoml::cli
