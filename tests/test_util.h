#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "byoml/events/event_batch.h"
#include "byoml/sources/input_set.h"
#include "byoml/templates/detection_template.h"

namespace byoml::test {

struct Run {
  int code;
  std::string out;
};

// Runs a shell command line as it is (the byoml binary is BYOML_CLI), capturing stdout and stderr.
inline Run shell(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
// Runs the byoml binary with `args` (shell syntax), capturing stdout and stderr together. Its
// default store would land in BYOML_TEST_STATE, which ctest checks stays empty: every test
// names its own --store. `env` adds NAME=value settings (shell syntax).
inline Run run(const std::string& args, const std::string& env = "") {
  return shell(std::string("env BYOML_STORE= XDG_STATE_HOME='") + BYOML_TEST_STATE + "' " + env + " " + BYOML_CLI + " " + args);
}

inline std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The files under `dir`, in name order (for an export tree: time order).
inline std::vector<std::filesystem::path> sorted_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Every line of every file under `dir`, files in name order.
inline std::vector<std::string> lines_under(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& f : sorted_files(dir)) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);) out.push_back(line);
  }
  return out;
}

// A real fixture under tests/data (licences and exact counts in its README.md).
inline std::string fixture(const std::string& rel) { return std::string(BYOML_TEST_DATA) + "/" + rel; }

// A fresh directory under the system temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("byoml-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The generated sample (`byoml sample --events 120000`) that the slow tests share, read only.
// ctest makes it once per run (the fixture `suite`, tests/CMakeLists.txt) at BYOML_TEST_SAMPLE;
// a test binary run on its own makes its own.
inline const std::string& shared_sample() {
  static const std::string dir = [] {
    if (std::filesystem::exists(std::string(BYOML_TEST_SAMPLE) + "/labels.csv")) return std::string(BYOML_TEST_SAMPLE);
    static TempDir own;
    Run r = run("sample -q --events 120000 --output " + own.path().string());
    if (r.code != 0) throw std::runtime_error("byoml sample failed: " + r.out);
    return own.path().string();
  }();
  return dir;
}

// Everything one read produced.
struct ReadAll {
  Vocabulary vocab;
  EventBatch events;
  ReadStats stats;
  RejectLog rejects{1000};
  std::vector<std::string> extra_names;

  std::string user(size_t i) const { return std::string(vocab.users.str(events.user[i])); }
  std::string machine(size_t i) const { return std::string(vocab.machines.str(events.machine[i])); }
  std::string resource(size_t i) const { return std::string(vocab.resources.str(events.resource[i])); }
};

inline MappingSpec default_mapping(bool share_only = false) {
  MappingSpec m = default_template().mapping;
  if (share_only) m.resource_scope = ResourceScope::kShare;
  return m;
}

inline std::unique_ptr<ReadAll> read_all(const std::vector<std::string>& paths, const MappingSpec& spec = default_mapping(),
                                         ReadOptions options = {}) {
  auto out = std::make_unique<ReadAll>();
  auto mapping = FieldMapping::compile(spec);
  if (!mapping) throw std::runtime_error(mapping.status().message());
  out->events.set_extra_count(mapping->extra_count());
  out->extra_names = mapping->extra_names();
  auto plan = plan_inputs(paths, options);
  if (!plan) throw std::runtime_error(plan.status().message());
  ReadContext ctx(*mapping, out->vocab, options, out->rejects, [&](const EventBatch& b) {
    for (size_t r = 0; r < b.size(); ++r) out->events.append_row(b, r);
  });
  if (Status st = read_inputs(*plan, ctx); !st) throw std::runtime_error(st.message());
  out->stats = ctx.stats();
  return out;
}

}  // namespace byoml::test
