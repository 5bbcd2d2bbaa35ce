#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "cli_common.h"

namespace byoml::cli {

// Each register_* adds a subcommand; the returned function runs it after parsing.
using Runner = std::function<int()>;
Runner register_inspect(CLI::App& app, TemplateChoice& tmpl);
Runner register_sample(CLI::App& app);
Runner register_template(CLI::App& app);
Runner register_params(CLI::App& app, TemplateChoice& tmpl);
Runner register_train(CLI::App& app, TemplateChoice& tmpl);
Runner register_score(CLI::App& app, TemplateChoice& tmpl);
Runner register_evaluate(CLI::App& app);
Runner register_models(CLI::App& app);
Runner register_rules(CLI::App& app);  // rules, query, incidents
Runner register_report(CLI::App& app);
Runner register_watch(CLI::App& app, TemplateChoice& tmpl);  // watch, watch status

}  // namespace byoml::cli
