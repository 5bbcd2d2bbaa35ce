// byoml template show | byoml params: the declarations users copy from.
#include <fmt/format.h>

#include <iostream>

#include "byoml/cloud/retry.h"
#include "commands.h"

namespace byoml::cli {

Runner register_template(CLI::App& app) {
  auto* cmd = app.add_subcommand("template", "Show the built-in detection template, to copy and edit");
  cmd->require_subcommand(1);
  auto* show = cmd->add_subcommand("show", "Print the built-in template (YAML) on standard output");
  return [show]() {
    if (!show->parsed()) return -1;
    std::cout << default_template_text();
    return static_cast<int>(kExitOk);
  };
}

Runner register_params(CLI::App& app, TemplateChoice& tc) {
  auto* cmd = app.add_subcommand("params", "List every tunable with its default, range and meaning (Markdown)");
  return [cmd, &tc]() {
    if (!cmd->parsed()) return -1;
    fmt::print("## Input (all commands that read logs)\n\n{}\n", params_markdown(reader_param_specs()));
    fmt::print("## Cloud (Blob storage, Event Hubs, the query API, Logs Ingestion)\n\n{}\n",
               params_markdown(http_param_specs()));
    fmt::print("## Template `{}`\n\n{}", tc.tmpl->name, params_markdown(tc.tmpl->params));
    return static_cast<int>(kExitOk);
  };
}

}  // namespace byoml::cli
