// The byoml command line: a thin front-end over libbyoml.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <system_error>

#include "byoml/version.h"
#include "commands.h"

int main(int argc, char** argv) {
  using namespace byoml::cli;
  CLI::App app{"byoml - bring your own machine learning to your SIEM's logs.\n"
               "Reads Windows security events (Log Analytics export, Event Hub, NXLog, .evtx, XML, CSV),\n"
               "models who uses which resource, and scores every access."};
  app.set_version_flag("--version", std::string("byoml ") + byoml::kVersion);
  app.require_subcommand(1);
  app.footer(
      "Start here:\n"
      "  byoml sample --output demo/            # a realistic generated dataset with ground truth\n"
      "  byoml inspect demo/export              # what the logs hold\n"
      "  byoml train --input demo/export --to 2026-11-02 --model demo/models\n"
      "  byoml score --input demo/export --from 2026-11-02 --model demo/models\n"
      "Results go to --store, default $XDG_STATE_HOME/byoml/byoml.db.\n" + std::string(kExitCodesHelp));

  TemplateChoice tmpl;
  if (auto st = tmpl.load(argc, argv); !st) return report_error(st);
  std::vector<Runner> runners;
  try {
    runners = {register_inspect(app, tmpl), register_sample(app),   register_train(app, tmpl), register_score(app, tmpl),
               register_evaluate(app),      register_models(app),   register_rules(app),       register_report(app),
               register_template(app),      register_params(app, tmpl), register_watch(app, tmpl)};
  } catch (const CLI::ConstructionError& e) {
    std::cerr << "byoml: error: template " << (tmpl.path.empty() ? "(built-in)" : tmpl.path) << ": " << e.what() << "\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  for (auto& run : runners) {
    int code;
    try {
      code = run();
    } catch (const std::system_error& e) {  // fmt::print when standard output cannot be written
      std::cerr << "byoml: error: writing standard output failed: " << e.what() << "\n";
      return kExitFailure;
    }
    if (code < 0) continue;
    // Output that did not reach its reader (a full disk, a closed pipe) is a failure.
    std::cout.flush();
    if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
      std::cerr << "byoml: error: writing standard output failed\n";
      return code == kExitOk ? kExitFailure : code;
    }
    return code;
  }
  return kExitUsage;
}
