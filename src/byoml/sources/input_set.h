// From the paths and URLs a user names to the objects to read: each goes to the transport of
// its scheme (sources/transport.h), which lists the objects under it in sorted order (so
// results never depend on the file system or the listing API); export trees are recognised
// and pruned by the time window using blob names alone, and each object's decoder is told by
// its content and name (sources/decoder.h).
#pragma once

#include <string>
#include <vector>

#include "byoml/sources/decoder.h"
#include "byoml/sources/read_context.h"

namespace byoml {

struct InputFile {
  InputObject object;
  const Decoder* decoder = nullptr;
  bool export_blob = false;
  Ticks blob_start = 0;  // export blobs only
  int overflow = 0;
};

struct InputPlan {
  std::vector<InputFile> files;
  std::vector<SkippedObject> skipped;
  uint64_t pruned = 0;     // export blobs outside the window (with slack)
  uint64_t unchanged = 0;  // objects at their resume position: nothing new to read
  // The resume positions this plan does not read again; they stay in the read's positions.
  std::vector<ReadPosition> carried;
};

// A path or URL that names nothing is an error; unreadable or junk entries under it are
// listed in `skipped` and reading goes on.
// `hint` tells transports the event ids and columns the reader wants (its window is set here).
Result<InputPlan> plan_inputs(const std::vector<std::string>& paths, const ReadOptions& options, ListHint hint = {});

// Reads every planned object in order (remote ones fetched ahead in parallel); one that cannot
// be read at all is reported in the stats' skipped files, the rest are still read. Records
// where the next read of every object starts, and flushes the context at the end. Refused
// credentials and a source that stays unavailable after its retries (kPermission, kTransient)
// stop the read with that error: a run must not pass off part of its input as the whole.
Status read_inputs(const InputPlan& plan, ReadContext& ctx);

}  // namespace byoml
