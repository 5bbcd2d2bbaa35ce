// From the paths a user names to the files to read: directories are walked (in sorted order,
// so results never depend on the file system), export trees are recognised and pruned by the
// time window using blob names alone, and each file's format is told by its content.
#pragma once

#include <string>
#include <vector>

#include "byoml/sources/read_context.h"

namespace byoml {

struct InputFile {
  std::string path;
  InputFormat format = InputFormat::kJson;
  bool export_blob = false;
  Ticks blob_start = 0;  // export blobs only
  int overflow = 0;
};

struct InputPlan {
  std::vector<InputFile> files;
  std::vector<SkippedFile> skipped;
  uint64_t pruned = 0;  // export blobs outside the window (with slack)
};

// Format by content: .evtx signature, '<' for XML, '{' / '[' or a .json name for JSON, a
// .csv name or a comma-separated first line for CSV. Empty files are skipped.
Result<InputFormat> detect_format(const std::string& path);

// A path that does not exist is an error; unreadable or junk entries inside a directory are
// listed in `skipped` and reading goes on.
Result<InputPlan> plan_inputs(const std::vector<std::string>& paths, const ReadOptions& options);

// Reads every planned file in order; a file that cannot be read at all is reported in the
// stats' skipped files, the rest are still read. Flushes the context at the end.
void read_inputs(const InputPlan& plan, ReadContext& ctx);

}  // namespace byoml
