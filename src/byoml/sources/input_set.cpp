#include "byoml/sources/input_set.h"

#include <fmt/format.h>

#include <algorithm>

#include "byoml/sources/export_layout.h"

namespace byoml {
namespace {

// The decoder for one object: by --format, else by its first 4 KiB and its name.
Result<const Decoder*> decoder_for(const InputObject& object, const ReadOptions& options) {
  if (options.format != "auto") {
    const Decoder* d = find_decoder(options.format);
    if (!d) return Status(ErrorCode::kInvalidArgument, fmt::format("unknown format \"{}\"", options.format));
    return d;
  }
  auto in = object.open();
  if (!in) return in.status();
  char head[4096];
  size_t n = 0;
  while (n < sizeof(head)) {
    auto got = (*in)->read(head + n, sizeof(head) - n);
    if (!got) return got.status();
    if (*got == 0) break;
    n += *got;
  }
  return detect_decoder(std::string_view(head, n), object.name);
}

}  // namespace

Result<InputPlan> plan_inputs(const std::vector<std::string>& paths, const ReadOptions& options) {
  InputPlan plan;
  const TimeWindow& w = options.filter.window;
  for (const auto& root : paths) {
    auto transport = transport_for(root);
    if (!transport) return transport.status();
    auto objects = (*transport)->list(root, plan.skipped);
    if (!objects) return objects.status();
    // The last six components decide, so a root anywhere in or above the tree works.
    bool tree = std::any_of(objects->begin(), objects->end(),
                            [](const InputObject& o) { return parse_export_blob_path(o.name).is_ok(); });
    std::vector<InputFile> found;
    for (auto& o : *objects) {
      if (tree) {
        auto blob = parse_export_blob_path(o.name);
        if (!blob) {
          plan.skipped.push_back({o.name, blob.status().message()});
          continue;
        }
        if (!TimeWindow{w.from == kMinTicks ? kMinTicks : w.from - options.path_slack,
                        w.to == kMaxTicks ? kMaxTicks : w.to + options.path_slack}
                 .overlaps(blob->start, blob->start + blob->span)) {
          ++plan.pruned;
          continue;
        }
        found.push_back({std::move(o), find_decoder("json"), true, blob->start, blob->overflow});
        continue;
      }
      auto decoder = decoder_for(o, options);
      if (!decoder) {
        if (decoder.status().code() == ErrorCode::kInvalidArgument) return decoder.status();
        if (decoder.status().code() != ErrorCode::kNotFound) plan.skipped.push_back({o.name, decoder.status().message()});
        continue;
      }
      found.push_back({std::move(o), *decoder});
    }
    if (tree)
      std::stable_sort(found.begin(), found.end(), [](const InputFile& a, const InputFile& b) {
        return std::tie(a.blob_start, a.overflow) < std::tie(b.blob_start, b.overflow);
      });
    plan.files.insert(plan.files.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  }
  return plan;
}

void read_inputs(const InputPlan& plan, ReadContext& ctx) {
  ReadStats& stats = ctx.stats();
  stats.files_pruned += plan.pruned;
  for (const auto& s : plan.skipped) ctx.skip_file(s.path, s.reason);
  for (const auto& f : plan.files) {
    ctx.begin_object(f.object);
    Status st = f.decoder->decode(f.object, ctx);
    ++stats.files_by_format[f.decoder->name];
    if (st.is_ok()) ++stats.files_read;
    else ctx.skip_file(f.object.name, st.message());
  }
  ctx.flush();
}

}  // namespace byoml
