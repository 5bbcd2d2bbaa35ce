#include <gtest/gtest.h>

#include "byoml/common/params.h"

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

TEST(Params, MarkdownListsEveryOption) {
  std::string md = params_markdown({{"max_record_bytes", ParamType::kBytes, "4MiB", 1024, 1e9, {}, "limit"}});
  EXPECT_NE(md.find("`--max-record-bytes`"), std::string::npos);
  EXPECT_NE(md.find("limit"), std::string::npos);
}

}  // namespace byoml
