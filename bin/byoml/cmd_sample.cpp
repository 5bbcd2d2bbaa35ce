// byoml sample: generated datasets with ground truth.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include <unistd.h>

#include "byoml/sample/departments_scenario.h"
#include "byoml/sample/enterprise_sample.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct SampleArgs {
  std::string output;
  std::string scenario = "enterprise";
  bool quiet = false;
  ParamSet params{enterprise_sample_param_specs()};
  ParamOptions options;
};

int run_sample(SampleArgs& a) {
  if (Status st = a.options.apply(a.params); !st) return report_error(st);
  if (a.scenario == "departments" || a.scenario == "quickstart") {
    DepartmentsSpec spec = a.scenario == "departments" ? DepartmentsSpec::reference() : DepartmentsSpec::quickstart();
    spec.seed = enterprise_sample_spec_from(a.params).seed;
    std::filesystem::create_directories(a.output);
    std::string path = (std::filesystem::path(a.output) / (a.scenario + ".csv")).string();
    auto rows = make_departments_scenario(spec);
    if (Status st = write_departments_csv(rows, path); !st) return report_error(st);
    fmt::print("wrote {} rows (tenant,user,resource,likelihood,split) to {}\n", rows.size(), path);
    return kExitOk;
  }
  EnterpriseSampleSpec spec = enterprise_sample_spec_from(a.params);
  if (a.scenario == "projects") spec.structure = CompanyStructure::kProjects;
  auto progress = [&](int day, int days) {
    if (!a.quiet && isatty(2)) std::cerr << fmt::format("\rbyoml sample: day {}/{}", day, days) << (day == days ? "\n" : "") << std::flush;
  };
  auto sum = write_enterprise_sample(spec, a.output, progress);
  if (!sum) return report_error(sum.status());
  fmt::print("wrote {} rows ({} x 5140) in {} blobs, {}\n", with_commas(sum->rows), with_commas(sum->rows_5140),
             with_commas(sum->blobs), human_bytes(sum->bytes));
  fmt::print("company     {} people ({} contractors) in {} departments, {} service and {} machine accounts, {} shares on {} servers\n",
             sum->people, sum->contractors, sum->departments, sum->service_accounts, sum->machine_accounts, sum->shares,
             sum->servers);
  fmt::print("train       {} .. {}\n", format_timestamp(sum->train_from, 0), format_timestamp(sum->train_to, 0));
  fmt::print("test        {} .. {}\n", format_timestamp(sum->test_from, 0), format_timestamp(sum->test_to, 0));
  for (const auto& [kind, n] : sum->labelled_events) {
    auto inc = sum->incidents.find(kind);
    fmt::print("  {:<40} {} events{}\n", kind, n,
               inc == sum->incidents.end() ? "" : fmt::format(" in {} incidents", inc->second));
  }
  fmt::print("export tree {}\nlabels      {}\nidentities  {} (IdentityInfo rows: departments, transfers)\nmanifest    {}\n",
             sum->export_dir, sum->labels_path, sum->identity_path, sum->manifest_path);
  return kExitOk;
}

}  // namespace

Runner register_sample(CLI::App& app) {
  auto args = std::make_shared<SampleArgs>();
  auto* cmd = app.add_subcommand(
      "sample", "Generate a realistic share-access dataset in the Log Analytics export layout, with ground truth");
  cmd->footer(
      "Scenarios:\n"
      "  enterprise   departments, teams, admins, service accounts, weekday rhythm; then a test window\n"
      "               with legitimate novelty and labelled anomalies (writes export/, labels.csv, manifest.json)\n"
      "  projects     as enterprise, for a flatter company that works in projects: members from several\n"
      "               departments, a quarter contractors, heavy service-account traffic, and a\n"
      "               reorganisation halfway through the window\n"
      "  departments  the reference algorithm's own test data: likelihood rows (hr 7/30, fin 5/25, eng 10/50)\n"
      "  quickstart   the Sentinel quick-start variant (hr 25/50, fin 35/75, eng 15/25)\n"
      "Examples:\n"
      "  byoml sample --output demo/ --events 500000\n"
      "  byoml sample --scenario projects --seed 11 --output projects/\n"
      "  byoml sample --scenario departments --output data/");
  cmd->add_option("--output,-o", args->output, "Directory to write into")->required();
  cmd->add_option("--scenario", args->scenario, "enterprise | projects | departments | quickstart [default: enterprise]")
      ->check(CLI::IsMember({"enterprise", "projects", "departments", "quickstart"}));
  cmd->add_flag("--quiet,-q", args->quiet, "No progress on standard error");
  args->options.add(cmd, enterprise_sample_param_specs(), "Generator");
  return [args, cmd]() { return cmd->parsed() ? run_sample(*args) : -1; };
}

}  // namespace byoml::cli
