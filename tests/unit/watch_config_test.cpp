// The watcher's config file: the example in deploy/ loads, every key is checked, and each
// mistake is a usage error that names its line.
#include <gtest/gtest.h>

#include "byoml/api/watcher.h"
#include "byoml/models/detector.h"
#include "test_util.h"

namespace byoml {
namespace {

std::vector<ParamSpec> scoring() { return find_detector("access-anomaly")->scoring_params(); }

TEST(WatchConfig, TheDeployedExampleLoads) {
  auto c = load_watch_config(std::string(BYOML_SOURCE_DIR) + "/deploy/watch.yaml", scoring());
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->input, std::vector<std::string>{"/data/export"});
  EXPECT_EQ(c->model, "/var/lib/byoml/models");
  EXPECT_EQ(c->store, "/var/lib/byoml/byoml.db");
  EXPECT_EQ(c->rules, "/etc/byoml/rules");
  EXPECT_EQ(c->per_event, true);
  EXPECT_EQ(c->interval, 5 * 60 * kTicksPerSecond);
  EXPECT_EQ(c->name, "default");
  EXPECT_TRUE(c->output.empty()) << "commented out";
}

TEST(WatchConfig, EveryMistakeIsAUsageErrorThatNamesItsLine) {
  test::TempDir dir;
  struct Case {
    std::string text, message;
  };
  for (const auto& [text, message] : std::vector<Case>{
           {"input: [a, b]\nmodel: m\ninterval: soon\n", "line 3: interval must be a duration"},
           {"input: a\ninterval: -5m\n", "line 2: interval must be a duration"},
           {"input: a\nper_event: maybe\n", "line 2: per_event must be true or false"},
           {"input: {a: b}\n", "line 1: input must be a path or URL"},
           {"input: a\nmodel: [x]\n", "line 2: model must be a string"},
           {"input: a\nthreshhold: 1\n", "line 2: unknown key \"threshhold\""},
           {"input: a\nrank: 20\n", "line 2: unknown key \"rank\""},  // training fixes it, not scoring
           {"input: a\nburst_window: [1m]\n", "line 2: burst_window must be a single value"},
           {"input: a\nexclusive_users: many\n", "line 2: "},
           {"- a\n- b\n", "must be a mapping"},
           {"input: [a\n", "line "},
       }) {
    auto c = load_watch_config(dir.write("w.yaml", text), scoring());
    ASSERT_FALSE(c) << text;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(c.status().message().find(message), std::string::npos) << c.status().message();
  }
  // Every scoring parameter may be set, and is checked against its declaration.
  auto scoring_keys = load_watch_config(dir.write("s.yaml", "input: a\nthreshold: 0.9\ntop: 50\nburst_resources: 12\nburst_window: 15m\n"), scoring());
  ASSERT_TRUE(scoring_keys) << scoring_keys.status().message();
  EXPECT_EQ(scoring_keys->parameters, (std::map<std::string, std::string>{
                                          {"threshold", "0.9"}, {"top", "50"}, {"burst_resources", "12"}, {"burst_window", "15m"}}));
  auto missing = load_watch_config(dir.file("none.yaml"), scoring());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace byoml
