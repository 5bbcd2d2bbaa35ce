// A model directory: every training run adds a numbered file, and CURRENT names the one that
// scoring uses. Rolling back rewrites CURRENT only, so no model is ever lost.
//
//   DIR/CURRENT            "3"
//   DIR/SHADOW             "4": a candidate that scores beside CURRENT until it is promoted (optional)
//   DIR/model-000001.byoml
//   DIR/model-000002.byoml ...
//   DIR/.lock              held while a version is claimed or CURRENT changes
//
// Concurrent `train` runs serialise on DIR/.lock only to claim a number and write their file
// (under a unique temporary name, renamed into place), so every version is kept whole. CURRENT
// is trusted or refused: a damaged or missing CURRENT beside existing models is an error
// (`byoml models rollback --to N` repairs it), never a silent fall back to the newest.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "byoml/common/file_lock.h"
#include "byoml/models/detector.h"

namespace byoml {

struct ModelEntry {
  int version = 0;
  std::string path;
  uint64_t bytes = 0;
  bool current = false;
  bool shadow = false;
  nlohmann::json info;  // the model's metadata, or {"error": "..."} when it does not load
};

class ModelRegistry {
 public:
  // `create`: make the directory when it does not exist (training); otherwise it must exist.
  // `on_wait` is told when another run holds the directory's lock.
  static Result<ModelRegistry> open(const std::string& dir, bool create, WaitNotice on_wait = {});

  const std::string& dir() const { return dir_; }
  std::vector<int> versions() const;
  // nullopt: no model yet. An error when CURRENT is unreadable, malformed or names no file.
  Result<std::optional<int>> current() const;
  std::string path_of(int version) const;

  // Saves the model as the next version (its info gets "version") and makes it current, or with
  // `as_shadow` the shadow (a candidate; CURRENT stays).
  Result<int> add(Model& m, bool as_shadow = false);
  // The candidate version, if any. An error when SHADOW is damaged or names no file.
  Result<std::optional<int>> shadow() const;
  // The shadow becomes current, and there is no shadow any more. Returns its version.
  Result<int> promote();
  Result<std::unique_ptr<Model>> load(std::optional<int> version = std::nullopt) const;
  Status set_current(int version);
  // Back to `to`, or to the newest loadable version older than the current one.
  Result<int> rollback(std::optional<int> to);
  std::vector<ModelEntry> list() const;

 private:
  Result<FileLock> lock() const;
  std::string dir_;
  WaitNotice on_wait_;
};

}  // namespace byoml
