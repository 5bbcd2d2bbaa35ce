#include "byoml/sources/input_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "byoml/sources/export_layout.h"
#include "byoml/sources/parallel_decode.h"
#include "byoml/sources/read_ahead.h"

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

// Where an object's read starts, given where an earlier read stopped: false when nothing is new.
bool resume_at(InputObject& o, const ReadPosition& p) {
  if (p.version == o.version) {
    o.start = p.offset;
    return p.offset < o.size;
  }
  // A new version: an append blob that grew is read from where the last read stopped; anything
  // else (replaced, shrunk) from the start.
  o.start = o.growing && o.size >= p.size && p.offset <= p.size ? p.offset : 0;
  return true;
}

Result<InputPlan> plan_inputs(const std::vector<std::string>& paths, const ReadOptions& options, ListHint hint) {
  InputPlan plan;
  std::map<std::pair<std::string, std::string>, const ReadPosition*> resume;
  if (options.resume)
    for (const auto& p : *options.resume) resume[{p.source, p.object}] = &p;
  std::set<std::pair<std::string, std::string>> listed;
  const TimeWindow& w = options.filter.window;
  hint.window = {w.from == kMinTicks ? kMinTicks : w.from - options.path_slack,
                 w.to == kMaxTicks ? kMaxTicks : w.to + options.path_slack};
  for (const auto& root : paths) {
    auto transport = transport_for(root, options.cloud);
    if (!transport) return transport.status();
    auto objects = (*transport)->list(root, hint, plan.skipped);
    if (!objects) return objects.status();
    // The last six components decide, so a root anywhere in or above the tree works.
    bool tree = std::any_of(objects->begin(), objects->end(),
                            [](const InputObject& o) { return parse_export_blob_path(o.name).is_ok(); });
    std::vector<InputFile> found;
    for (auto& o : *objects) {
      if (auto it = resume.find({o.source, o.name}); it != resume.end()) {
        listed.insert(it->first);
        if (!resume_at(o, *it->second)) {
          ++plan.unchanged;
          plan.carried.push_back(*it->second);
          continue;
        }
      }
      if (tree) {
        auto blob = parse_export_blob_path(o.name);
        if (!blob) {
          plan.skipped.push_back({o.name, blob.status().message()});
          continue;
        }
        if (!hint.window.overlaps(blob->start, blob->start + blob->span)) {
          ++plan.pruned;
          continue;
        }
        found.push_back({std::move(o), find_decoder("json"), true, blob->start, blob->overflow});
        continue;
      }
      auto decoder = o.format.empty() ? decoder_for(o, options) : Result<const Decoder*>(find_decoder(o.format));
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
  // Objects outside this read (pruned by the window, not listed) keep their positions too.
  std::set<std::pair<std::string, std::string>> planned;
  for (const auto& f : plan.files) planned.insert({f.object.source, f.object.name});
  if (options.resume)
    for (const auto& p : *options.resume)
      if (!listed.count({p.source, p.object}) && !planned.count({p.source, p.object})) plan.carried.push_back(p);
  return plan;
}

Status read_inputs(const InputPlan& plan, ReadContext& ctx) {
  ReadStats& stats = ctx.stats();
  stats.files_pruned += plan.pruned;
  stats.files_unchanged += plan.unchanged;
  for (const auto& s : plan.skipped) ctx.skip_file(s.path, s.reason);
  ReadAhead ahead(plan.files, ctx.options().download_threads, ctx.options().read_ahead_bytes);
  Status failed;
  // What became of files[i], in input order whatever the number of threads.
  auto done = [&](size_t i, const Status& st) {
    const InputFile& f = plan.files[i];
    if (st.is_ok()) {
      ++stats.files_read;
    } else if (st.code() == ErrorCode::kPermission || st.code() == ErrorCode::kTransient) {
      failed = st.with_context(f.object.name);
      return false;
    } else {
      ctx.skip_file(f.object.name, st.message());
    }
    return true;
  };
  unsigned threads = ctx.options().read_threads ? ctx.options().read_threads : std::thread::hardware_concurrency();
  threads = static_cast<unsigned>(std::min<size_t>(std::max(1u, threads), plan.files.size()));
  if (threads > 1) {
    decode_in_parallel(plan.files, ahead, ctx, threads, done);
  } else {
    for (size_t i = 0; i < plan.files.size(); ++i)
      if (!done(i, decode_object(plan.files[i], ahead, i, ctx))) break;
  }
  if (!failed.is_ok()) {
    ctx.flush();
    return failed;
  }
  stats.positions.insert(stats.positions.end(), plan.carried.begin(), plan.carried.end());
  // In name order, whatever was read: the same state is the same text (a run id depends on it).
  std::sort(stats.positions.begin(), stats.positions.end(), [](const ReadPosition& a, const ReadPosition& b) {
    return std::tie(a.source, a.object) < std::tie(b.source, b.object);
  });
  ctx.flush();
  return {};
}

}  // namespace byoml
