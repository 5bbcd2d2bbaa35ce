#include <gtest/gtest.h>

#include <map>

#include "byoml/common/params.h"
#include "byoml/common/param_table.h"

namespace byoml {

TEST(Params, DefaultsValidationAndCanonicalText) {
  ParamSet p({{"rank", ParamType::kInt, "10", 1, 512, {}, "factors"},
              {"alpha", ParamType::kReal, "1.0", 0, 1000, {}, ""},
              {"slack", ParamType::kDuration, "1h", 0, 86400, {}, ""},
              {"size", ParamType::kBytes, "4MiB", 1024, 1e9, {}, ""},
              {"mode", ParamType::kChoice, "a", 0, 0, {"a", "b"}, ""},
              {"flag", ParamType::kBool, "false", 0, 0, {}, ""}});
  EXPECT_EQ(p.get_int("rank"), 10);
  EXPECT_EQ(p.get_bytes("size"), 4u << 20);
  EXPECT_EQ(p.get_duration("slack"), kTicksPerHour);
  EXPECT_TRUE(p.set("rank", "64").is_ok());
  EXPECT_EQ(p.get_int("rank"), 64);
  EXPECT_FALSE(p.set("rank", "0").is_ok());
  EXPECT_FALSE(p.set("rank", "12abc").is_ok());
  EXPECT_FALSE(p.set("alpha", "nan").is_ok());
  EXPECT_FALSE(p.set("mode", "c").is_ok());
  EXPECT_FALSE(p.set("slack", "2d").is_ok());
  EXPECT_FALSE(p.set("nope", "1").is_ok());
  EXPECT_TRUE(p.set("flag", "yes").is_ok());
  EXPECT_TRUE(p.get_bool("flag"));
  EXPECT_TRUE(p.set("slack", "90m").is_ok());
  EXPECT_EQ(p.values().at("slack"), "90m");
  auto msg = p.set("rank", "1000").message();
  EXPECT_NE(msg.find("rank"), std::string::npos);
  EXPECT_NE(msg.find("between 1 and 512"), std::string::npos);
}

TEST(Params, DeclarationsFromFilesAreCheckedNotTrusted) {
  EXPECT_FALSE(ParamSet::make({{"x", ParamType::kInt, "99", 1, 10, {}, ""}}).is_ok());
  EXPECT_FALSE(ParamSet::make({{"x", ParamType::kChoice, "a", 0, 0, {}, ""}}).is_ok());
  EXPECT_FALSE(ParamSet::make({{"x", ParamType::kInt, "1", 0, 0, {}, ""}, {"x", ParamType::kInt, "1", 0, 0, {}, ""}}).is_ok());
}

// A typed options struct: its initialisers are the declared defaults, and bind() reads every
// field back, whatever a template or the command line set.
enum class Mode { kFast, kExact };
struct Options {
  int rank = 10;
  double alpha = 0.5;
  bool strict = true;
  Mode mode = Mode::kExact;
  std::string label = "none";
  Ticks slack = 2 * kTicksPerHour;
  uint64_t limit = 8u << 20;
  Ticks start = make_ticks(2026, 1, 2);
};
struct Derived : Options {
  uint32_t extra = 3;
};

TEST(Params, ATableBindsDeclarationsToFieldsWhoseInitialisersAreTheDefaults) {
  ParamTable<Derived> table;
  table.add("rank", &Derived::rank, "factors", 1, 512)
      .add("alpha", &Derived::alpha, "")
      .add("strict", &Derived::strict, "")
      .add("mode", &Derived::mode, "", 0, 0, {"fast", "exact"})
      .add("label", &Derived::label, "")
      .with_unit(ParamType::kDuration, "slack", &Derived::slack, "")
      .with_unit(ParamType::kBytes, "limit", &Derived::limit, "")
      .with_unit(ParamType::kTime, "start", &Derived::start, "")
      .add("extra", &Derived::extra, "", 0, 10);
  std::vector<ParamSpec> specs = table.specs();
  std::map<std::string, std::string> defaults;
  for (const auto& s : specs) defaults[s.name] = s.default_value;
  EXPECT_EQ(defaults, (std::map<std::string, std::string>{{"rank", "10"}, {"alpha", "0.5"}, {"strict", "true"},
                                                          {"mode", "exact"}, {"label", "none"}, {"slack", "2h"},
                                                          {"limit", "8MiB"}, {"start", "2026-01-02T00:00:00Z"},
                                                          {"extra", "3"}}));
  EXPECT_EQ(specs[3].type, ParamType::kChoice);

  ParamSet values(specs);
  Derived d = table.bind(values);
  EXPECT_EQ(d.rank, 10);
  EXPECT_EQ(d.mode, Mode::kExact);
  EXPECT_EQ(d.slack, 2 * kTicksPerHour);
  for (auto [name, text] : {std::pair{"rank", "64"}, {"alpha", "2.25"}, {"strict", "no"}, {"mode", "fast"},
                            {"label", "x"}, {"slack", "90m"}, {"limit", "1KiB"}, {"start", "2026-11-02T08:00:00Z"},
                            {"extra", "7"}})
    ASSERT_TRUE(values.set(name, text)) << name;
  d = table.bind(values);
  EXPECT_EQ(d.rank, 64);
  EXPECT_EQ(d.alpha, 2.25);
  EXPECT_FALSE(d.strict);
  EXPECT_EQ(d.mode, Mode::kFast);
  EXPECT_EQ(d.label, "x");
  EXPECT_EQ(d.slack, 90 * 60 * kTicksPerSecond);
  EXPECT_EQ(d.limit, 1024u);
  EXPECT_EQ(d.start, make_ticks(2026, 11, 2, 8));
  EXPECT_EQ(d.extra, 7u);
  EXPECT_FALSE(values.set("start", "yesterday"));
}

TEST(Params, MarkdownListsEveryOption) {
  std::string md = params_markdown({{"max_record_bytes", ParamType::kBytes, "4MiB", 1024, 1e9, {}, "limit"}});
  EXPECT_NE(md.find("`--max-record-bytes`"), std::string::npos);
  EXPECT_NE(md.find("limit"), std::string::npos);
}

}  // namespace byoml
