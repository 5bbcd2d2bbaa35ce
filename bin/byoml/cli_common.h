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

#include "byoml/api/session.h"
#include "byoml/cloud/retry.h"
#include "byoml/common/params.h"
#include "byoml/features/allowlist.h"
#include "byoml/results/result_store.h"
#include "byoml/sources/input_set.h"
#include "byoml/templates/detection_template.h"

namespace byoml::cli {

// Exit codes (also listed in `byoml --help`), one per kind of error, so a scheduler can tell
// "fix the command" from "fix the data" from "try again later".
enum Exit : int {
  kExitOk = 0,
  kExitFailure = 1,    // the job could not be done (I/O error, unsupported input)
  kExitUsage = 2,      // bad command line or option value
  kExitBadInput = 3,   // done, but records were rejected and --strict was given
  kExitNotFound = 4,   // an input, model, store or incident does not exist
  kExitCorrupt = 5,    // a model file, CURRENT or store fails its own checks
  kExitTransient = 75, // may pass on retry (EX_TEMPFAIL): a busy store, a timeout
  kExitPermission = 77, // credentials refused or missing (EX_NOPERM): a wrong key, an expired SAS
};
int exit_code_of(ErrorCode code);
inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 done; 1 failed; 2 bad command line; 3 records rejected with --strict; 4 not found; "
    "5 damaged model, CURRENT or store; 75 temporary failure, retry later; 77 credentials refused or missing.";

// Adds one option per declared parameter; apply() moves the given ones into `params`.
class ParamOptions {
 public:
  void add(CLI::App* app, const std::vector<ParamSpec>& specs, const std::string& group);
  Status apply(ParamSet& params) const;

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
  std::string credentials_path;
  ParamSet reader_params{reader_param_specs()};
  ParamOptions reader_options;
  ParamSet http_params{http_param_specs()};
  ParamOptions http_options;

  void add(CLI::App* app, bool positional);
  // Resolves the options into ReadOptions (window, tunables, cloud credentials); errors are
  // usage errors.
  Result<ReadOptions> read_options() const;
  // Sends every reject to the --rejects file, when one was given.
  Status open_rejects(RejectLog& log) const;
  // After a job: warns on standard error of every file or directory that was skipped and when
  // no event was read at all, and gives the exit code (kExitBadInput with --strict when anything
  // was rejected or skipped, or nothing read).
  int outcome(const ReadStats& stats, const RejectLog& rejects) const;
};

// The template named by --template (pre-scanned from argv so that its parameters become
// options), or the built-in one.
struct TemplateChoice {
  std::string path;
  std::shared_ptr<DetectionTemplate> tmpl;
  ParamSet values;
  ParamOptions options;

  Status load(int argc, char** argv);
  // Which of the template's parameters a command takes as options.
  enum class Use {
    kReading,   // the template's own (resource_scope): they shape the mapping
    kScoring,   // the detector's scoring parameters: the model fixes everything else, mapping included
    kTraining,  // all
  };
  void add(CLI::App* app, Use use);
  std::vector<ParamSpec> specs(Use use) const;  // the template's parameters a command takes
};

int report_error(const Status& st);
std::string now_text();

// --store, --no-store, --json, --quiet: shared by the commands that run a job.
struct JobOptions {
  std::string store = default_store_path();
  bool no_store = false;
  bool json = false;
  bool quiet = false;
  void add(CLI::App* app, const std::string& store_help, const std::string& json_help);
  // The store (none with --no-store), lock waits and warnings on standard error, progress
  // lines unless --quiet.
  SessionOptions session_options() const;
};

// Tells on standard error that this run waits for another one's lock.
WaitNotice wait_notice();
// Progress lines on standard error, each with the seconds since the command started.
std::function<void(const std::string&)> progress_logger();
std::string human_bytes(uint64_t n);
std::string with_commas(uint64_t n);

}  // namespace byoml::cli
