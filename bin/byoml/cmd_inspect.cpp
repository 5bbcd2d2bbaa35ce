// byoml inspect: read any supported input and say what is in it.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "byoml/events/event_summary.h"
#include "commands.h"

namespace byoml::cli {
namespace {

struct InspectArgs {
  InputOptions input;
  bool json = false;
  bool all_events = false;
};

nlohmann::json counts_json(const DistinctCounts& c) {
  return {{"events", c.events},       {"tenants", c.tenants},
          {"accounts", c.users},      {"user_accounts", c.user_accounts},
          {"machine_accounts", c.machine_accounts},
          {"machines", c.machines},   {"resources", c.resources},
          {"source_addresses", c.addresses}};
}

std::string time_or_dash(Ticks t, bool any) { return any ? format_timestamp(t, 3) : "-"; }

int run_inspect(InspectArgs& a, TemplateChoice& tc) {
  auto opts = a.input.read_options();
  if (!opts) return report_error(opts.status());
  Status st = tc.options.apply(tc.values);
  if (!st) return report_error(st);
  const DetectionTemplate& t = *tc.tmpl;
  auto mapping = FieldMapping::compile(mapping_for(t, tc.values));
  if (!mapping) return report_error(mapping.status());
  auto plan = plan_inputs(a.input.paths, *opts);
  if (!plan) return report_error(plan.status());

  Vocabulary vocab;
  RejectLog rejects;
  if (Status s = a.input.open_rejects(rejects); !s) return report_error(s);
  EventSummary summary(t.event_ids);
  ReadContext ctx(*mapping, vocab, *opts, rejects, [&](const EventBatch& b) { summary.add(b); });
  if (Status read = read_inputs(*plan, ctx); !read) return report_error(read);
  if (Status s = rejects.close(); !s) return report_error(s);
  const ReadStats& s = ctx.stats();
  DistinctCounts all = summary.all(), scoped = summary.in_scope();
  bool any = summary.events() > 0;

  if (a.json) {
    nlohmann::json j;
    j["files"] = {{"read", s.files_read}, {"pruned_by_window", s.files_pruned},
                  {"skipped", s.skipped_files.size()}, {"by_format", s.files_by_format}};
    j["bytes_read"] = s.bytes_read;
    j["records"] = {{"total", s.records}, {"events", s.events}, {"rejected", s.rejected},
                    {"outside_window", s.outside_window}, {"filtered_out", s.filtered_out}};
    nlohmann::json ids = nlohmann::json::object();
    for (auto [id, n] : summary.by_event_id()) ids[std::to_string(id)] = n;
    j["events_by_id"] = ids;
    j["time"] = {{"first", any ? nlohmann::json(format_timestamp(summary.first_time())) : nlohmann::json()},
                 {"last", any ? nlohmann::json(format_timestamp(summary.last_time())) : nlohmann::json()}};
    j["distinct"] = counts_json(all);
    j["template"] = {{"name", t.name}, {"event_ids", t.event_ids}, {"parameters", tc.values.values()},
                     {"distinct", counts_json(scoped)}};
    nlohmann::json kinds = nlohmann::json::object();
    for (const auto& [k, n] : rejects.by_kind()) kinds[k] = n;
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& r : rejects.samples())
      samples.push_back({{"file", r.origin.object}, {"line", r.origin.at.line}, {"offset", r.origin.at.offset}, {"kind", r.kind}, {"field", r.field}, {"message", r.message}});
    j["rejected"] = {{"total", rejects.total()}, {"by_kind", kinds}, {"samples", samples}};
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& f : s.skipped_files) skipped.push_back({{"path", f.path}, {"reason", f.reason}});
    j["skipped_files"] = skipped;
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::string formats;
    for (const auto& [f, n] : s.files_by_format) formats += fmt::format("{}{} {}", formats.empty() ? "" : ", ", n, f);
    fmt::print("files       {} read ({}), {}{}{}\n", s.files_read, formats.empty() ? "none" : formats,
               human_bytes(s.bytes_read),
               s.files_pruned ? fmt::format(", {} export blobs outside the window", s.files_pruned) : "",
               s.skipped_files.empty() ? "" : fmt::format(", {} skipped", s.skipped_files.size()));
    fmt::print("records     {} read: {} events, {} rejected, {} outside the window, {} not selected\n",
               with_commas(s.records), with_commas(s.events), with_commas(s.rejected), with_commas(s.outside_window),
               with_commas(s.filtered_out));
    fmt::print("time        {} .. {} (UTC)\n", time_or_dash(summary.first_time(), any),
               time_or_dash(summary.last_time(), any));
    std::vector<std::pair<uint64_t, uint32_t>> ids;
    for (auto [id, n] : summary.by_event_id()) ids.emplace_back(n, id);
    std::sort(ids.rbegin(), ids.rend());
    std::string by_id;
    for (auto [n, id] : ids) by_id += fmt::format("{}{} x {}", by_id.empty() ? "" : ", ", id, with_commas(n));
    fmt::print("EventID     {}\n", by_id.empty() ? "-" : by_id);
    fmt::print("distinct    {} accounts ({} user, {} machine), {} machines, {} resources, {} tenants, {} source addresses\n",
               all.users, all.user_accounts, all.machine_accounts, all.machines, all.resources, all.tenants,
               all.addresses);
    std::string eids;
    for (auto id : t.event_ids) eids += fmt::format("{}{}", eids.empty() ? "" : ",", id);
    fmt::print("template    {} (EventID {}): {} events, {} accounts, {} resources, {} machines\n", t.name,
               eids.empty() ? "any" : eids, with_commas(scoped.events), scoped.users, scoped.resources, scoped.machines);
    if (rejects.total() > 0) {
      std::string kinds;
      for (const auto& [k, n] : rejects.by_kind()) kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", n, k);
      fmt::print("rejected    {} ({})\n", with_commas(rejects.total()), kinds);
      for (const auto& r : rejects.samples()) fmt::print("  {}\n", r.to_string());
      if (rejects.total() > rejects.samples().size())
        fmt::print("  ... {} more{}\n", rejects.total() - rejects.samples().size(),
                   a.input.rejects_path.empty() ? " (--rejects FILE keeps them all)" : "");
    }
    for (const auto& f : s.skipped_files) fmt::print("skipped     {}: {}\n", f.path, f.reason);
  }
  if (s.files_read == 0 && !s.skipped_files.empty()) return kExitFailure;
  if (a.input.strict && (rejects.total() > 0 || !s.skipped_files.empty())) return kExitBadInput;
  return kExitOk;
}

}  // namespace

Runner register_inspect(CLI::App& app, TemplateChoice& tc) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect", "Read logs and report what they hold: events by EventID, time range, "
                                            "distinct accounts/machines/resources, rejected records and why");
  cmd->footer(
      "Examples:\n"
      "  byoml inspect ../shared/data/otrf/share-access-5140-5145.nxlog.jsonl\n"
      "  byoml inspect --from 2026-11-01 --to 2026-11-02 export/   # an export tree, only the blobs needed\n"
      "  byoml inspect --json --rejects rejects.jsonl logs/*.evtx");
  args->input.add(cmd, /*positional=*/true);
  cmd->add_flag("--json", args->json, "Print one JSON object instead of text");
  tc.add(cmd, TemplateChoice::Use::kReading);
  return [args, &tc, cmd]() { return cmd->parsed() ? run_inspect(*args, tc) : -1; };
}

}  // namespace byoml::cli
