#include <gtest/gtest.h>

#include <set>

#include "byoml/events/event_batch.h"
#include "byoml/events/string_pool.h"

namespace byoml {

TEST(StringPool, DenseIdsWithEmptyAsZero) {
  StringPool p;
  EXPECT_EQ(p.intern(""), 0u);
  EXPECT_EQ(p.intern("alice"), 1u);
  EXPECT_EQ(p.intern("bob"), 2u);
  EXPECT_EQ(p.intern("alice"), 1u);
  EXPECT_EQ(p.str(2), "bob");
  EXPECT_EQ(p.size(), 3u);
  EXPECT_FALSE(p.find("carol").has_value());
  EXPECT_EQ(*p.find("bob"), 2u);
}

TEST(StringPool, SurvivesGrowthAndLongStrings) {
  StringPool p;
  std::string long_one(3 << 20, 'x');
  uint32_t big = p.intern(long_one);
  for (int i = 0; i < 200000; ++i) ASSERT_EQ(p.intern("user" + std::to_string(i)), static_cast<uint32_t>(i + 2));
  EXPECT_EQ(p.str(big), long_one);
  EXPECT_EQ(p.str(100001), "user99999");
  EXPECT_EQ(p.intern(std::string("a\0b", 3)), 200002u);  // NUL bytes are data
  EXPECT_EQ(p.str(200002).size(), 3u);
}

TEST(StringPool, HashDoesNotDependOnOrder) {
  StringPool a, b;
  a.intern("x");
  a.intern("alice");
  b.intern("alice");
  EXPECT_NE(*a.find("alice"), *b.find("alice"));
  EXPECT_EQ(a.hash(*a.find("alice")), b.hash(*b.find("alice")));
  EXPECT_EQ(a.hash(*a.find("alice")), stable_hash("alice"));
}

TEST(RecordId, GuidsNumbersAndOpaqueText) {
  auto g = RecordId::from_text("76d12871-4344-4404-bc82-0a78925cff53");
  EXPECT_EQ(g.kind, RecordId::Kind::kGuid);
  EXPECT_EQ(g.to_string(), "76d12871-4344-4404-bc82-0a78925cff53");
  EXPECT_EQ(RecordId::from_text("{76D12871-4344-4404-BC82-0A78925CFF53}"), g);
  auto n = RecordId::from_text("31067602");
  EXPECT_EQ(n.kind, RecordId::Kind::kNumber);
  EXPECT_EQ(n.lo, 31067602u);
  auto h = RecordId::from_text("'; DROP TABLE x; --");
  EXPECT_EQ(h.kind, RecordId::Kind::kHash);
  EXPECT_EQ(h, RecordId::from_text("'; DROP TABLE x; --"));
  EXPECT_NE(h, RecordId::from_text("'; DROP TABLE y; --"));
  EXPECT_EQ(RecordId::from_text("").kind, RecordId::Kind::kNone);
  // Every hex digit of either case in every place, read 8 at a time.
  auto all = RecordId::from_text("0123abcd-ABCD-ef01-EF23-456789aBcDeF");
  EXPECT_EQ(all.kind, RecordId::Kind::kGuid);
  EXPECT_EQ(all.to_string(), "0123abcd-abcd-ef01-ef23-456789abcdef");
  // A byte that is not a hex digit anywhere (just past 'f', 'F', '9', below '0', high bit)
  // makes it opaque text, not a GUID.
  for (char bad : {'g', 'G', ':', '/', '@', '`', '\x80', '\xe6'})
    for (size_t at : {0u, 7u, 9u, 16u, 20u, 35u}) {
      std::string text = "76d12871-4344-4404-bc82-0a78925cff53";
      text[at] = bad;
      EXPECT_EQ(RecordId::from_text(text).kind, RecordId::Kind::kHash) << text;
    }
}

// Two reads of the same users in different orders must put every user in the same hash
// partition, or a distributed driver would split one user's events between workers.
TEST(Partition, ByUserHashIsStableAcrossReadingOrder) {
  std::vector<std::string> users;
  for (int i = 0; i < 500; ++i) users.push_back("CONTOSO\\user" + std::to_string(i));
  auto build = [&](bool reversed, Vocabulary& v) {
    EventBatch b;
    for (size_t k = 0; k < users.size(); ++k) {
      const std::string& u = users[reversed ? users.size() - 1 - k : k];
      for (int rep = 0; rep < 3; ++rep) {
        b.time.push_back(static_cast<Ticks>(k));
        b.tenant.push_back(v.tenants.intern(k % 2 ? "t1" : "t2"));
        b.user.push_back(v.users.intern(u));
        b.account_type.push_back(AccountType::kUser);
        b.machine.push_back(0);
        b.resource.push_back(v.resources.intern("r" + std::to_string(rep)));
        b.source_ip.push_back(0);
        b.event_id.push_back(5140);
        b.record_id.push_back({});
      }
    }
    return b;
  };
  Vocabulary va, vb;
  EventBatch a = build(false, va), b = build(true, vb);
  auto pa = partition_rows(a, va, PartitionKey::kUserHash, 4);
  auto pb = partition_rows(b, vb, PartitionKey::kUserHash, 4);
  ASSERT_EQ(pa.size(), 4u);
  size_t total = 0;
  for (int p = 0; p < 4; ++p) {
    std::set<std::string> ua, ub;
    for (uint32_t r : pa[p]) ua.insert(std::string(va.users.str(a.user[r])));
    for (uint32_t r : pb[p]) ub.insert(std::string(vb.users.str(b.user[r])));
    EXPECT_EQ(ua, ub);
    EXPECT_GT(ua.size(), 50u);  // spread, not all in one
    total += pa[p].size();
  }
  EXPECT_EQ(total, a.size());

  auto pt = partition_rows(a, va, PartitionKey::kTenant);
  ASSERT_EQ(pt.size(), 3u);  // id 0 (absent) + two tenants
  EXPECT_TRUE(pt[0].empty());
  EventBatch t1 = take_rows(a, pt[*va.tenants.find("t1")]);
  EXPECT_EQ(t1.size(), 750u);
  for (size_t r = 0; r < t1.size(); ++r) EXPECT_EQ(va.tenants.str(t1.tenant[r]), "t1");
}

}  // namespace byoml
