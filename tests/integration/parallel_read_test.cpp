// Reading on several threads gives exactly what one thread gives: the same batches in the same
// order, the same ids for the same strings, the same rejects in the same order with their
// places, and the same counts and positions, whatever the number of threads.
#include <gtest/gtest.h>

#include <filesystem>

#include "byoml/events/vocabulary_map.h"
#include "test_util.h"

namespace byoml {
namespace {

std::string row(int file, int i, const std::string& account) {
  return R"({"TimeGenerated":"2026-11-0)" + std::to_string(1 + file % 9) + "T10:" + std::to_string(10 + i % 50) +
         R"(:00.1234567Z","EventID":)" + std::string(i % 7 == 0 ? "4624" : "5140") + R"(,"Account":"CONTOSO\\)" +
         account + R"(","Computer":"FS0)" + std::to_string(file % 3) + R"(","ShareName":"\\\\*\\Share)" +
         std::to_string((file * 7 + i) % 23) + R"(","IpAddress":"10.0.)" + std::to_string(file) + "." +
         std::to_string(i % 13) + R"(","EventOriginId":"0a747100-647e-4b95-bc77-81)" + std::to_string(1000 + file) +
         std::to_string(1000000 + i).substr(1) + R"(","SubjectLogonId":"0x3e7"})";
}

// Everything a read hands on, in the order it was handed on.
struct Seen {
  std::vector<size_t> batch_sizes;
  EventBatch events;
  std::vector<std::vector<std::string>> pools;
  std::vector<std::string> rejects;
  ReadStats stats;
};

Seen read(const std::vector<std::string>& paths, unsigned threads, size_t batch_events) {
  Seen seen;
  auto mapping = FieldMapping::compile(test::default_mapping()).value();
  seen.events.set_extra_count(mapping.extra_count());
  ReadOptions options;
  options.read_threads = threads;
  options.batch_events = batch_events;
  options.filter.window = {parse_timestamp("2026-11-02T00:00:00Z").value(), parse_timestamp("2026-11-09T00:00:00Z").value()};
  Vocabulary vocab;
  RejectLog rejects(100000);
  ReadContext ctx(mapping, vocab, options, rejects, [&](const EventBatch& b) {
    seen.batch_sizes.push_back(b.size());
    for (size_t r = 0; r < b.size(); ++r) seen.events.append_row(b, r);
  });
  EXPECT_TRUE(read_inputs(plan_inputs(paths, options).value(), ctx).is_ok());
  for (auto pool : kVocabularyPools) {
    seen.pools.emplace_back();
    for (uint32_t id = 0; id < (vocab.*pool).size(); ++id) seen.pools.back().emplace_back((vocab.*pool).str(id));
  }
  EXPECT_EQ(rejects.total(), rejects.samples().size());
  for (const auto& r : rejects.samples()) seen.rejects.push_back(r.kind + " " + r.to_string() + " " + r.raw.substr(0, 40));
  seen.stats = ctx.stats();
  return seen;
}

void expect_same(const Seen& a, const Seen& b, unsigned threads) {
  SCOPED_TRACE(testing::Message() << threads << " threads");
  EXPECT_EQ(a.batch_sizes, b.batch_sizes);
  ASSERT_EQ(a.events.size(), b.events.size());
  auto columns = [](const EventBatch& e) {
    return std::tie(e.time, e.tenant, e.user, e.account_type, e.machine, e.resource, e.source_ip, e.event_id, e.extra);
  };
  EXPECT_TRUE(columns(a.events) == columns(b.events));
  EXPECT_TRUE(a.events.record_id == b.events.record_id);
  EXPECT_EQ(a.pools, b.pools);
  EXPECT_EQ(a.rejects, b.rejects);
  auto counts = [](const ReadStats& s) {
    return std::tie(s.records, s.events, s.rejected, s.filtered_out, s.outside_window, s.newest, s.bytes_read,
                    s.files_read, s.files_by_format);
  };
  EXPECT_EQ(counts(a.stats), counts(b.stats));
  ASSERT_EQ(a.stats.skipped_files.size(), b.stats.skipped_files.size());
  for (size_t i = 0; i < a.stats.skipped_files.size(); ++i)
    EXPECT_EQ(a.stats.skipped_files[i].path, b.stats.skipped_files[i].path);
  ASSERT_EQ(a.stats.positions.size(), b.stats.positions.size());
  for (size_t i = 0; i < a.stats.positions.size(); ++i) {
    EXPECT_EQ(a.stats.positions[i].object, b.stats.positions[i].object);
    EXPECT_EQ(a.stats.positions[i].offset, b.stats.positions[i].offset);
  }
}

}  // namespace

TEST(ParallelRead, GivesWhatOneThreadGivesForAnyThreadCount) {
  test::TempDir dir;
  // Files of several formats and sizes; accounts recur across files and new ones appear late,
  // so the ids depend on the order strings were first met. Every file has bad records.
  for (int f = 0; f < 14; ++f) {
    std::string text;
    int rows = f == 3 ? 3000 : 40 + 17 * f;
    for (int i = 0; i < rows; ++i) {
      std::string account = "u" + std::to_string((i * 31 + f * 5) % (20 + 9 * f));
      if (i % 29 == 5) text += row(f, i, account).substr(0, 50) + "\n";          // truncated
      else if (i % 41 == 7) text += "{\"TimeGenerated\":\"yesterday\"}\n";     // bad time
      else text += row(f, i, account) + "\n";
    }
    dir.write("logs/f" + std::to_string(100 + f) + ".json", text);
  }
  // Many large bad records: the worker hands its held rejects over before the object ends.
  std::string junk;
  for (int i = 0; i < 300; ++i) junk += "{\"x\":\"" + std::string(60000, static_cast<char>('a' + i % 26)) + "\n";
  junk += row(5, 1, "after-junk") + "\n";
  dir.write("logs/f150-junk.json", junk);
  dir.write("logs/f160.xml",
            "<Events><Event><System><EventID>5140</EventID><TimeCreated SystemTime=\"2026-11-03T10:00:00Z\"/>"
            "<Computer>FS09</Computer></System><EventData><Data Name=\"SubjectUserName\">x1</Data>"
            "<Data Name=\"SubjectDomainName\">C</Data><Data Name=\"ShareName\">\\\\*\\X</Data></EventData></Event>"
            "</Events>\n");
  std::string evtx = dir.write("logs/f170.evtx", std::string("ElfFile\0", 8) + std::string(5000, '\x01'));
  std::filesystem::copy_file(test::fixture("evtx/psexec-admin-share.evtx"), dir.path() / "logs/f180.evtx");

  const std::string logs = (dir.path() / "logs").string();
  Seen one = read({logs}, 1, 97);
  ASSERT_GT(one.events.size(), 3000u);
  ASSERT_GT(one.rejects.size(), 400u);
  ASSERT_EQ(one.stats.skipped_files.size(), 1u) << "the damaged .evtx";
  EXPECT_EQ(one.stats.skipped_files[0].path, evtx);
  EXPECT_GT(one.stats.outside_window, 0u);
  for (unsigned threads : {2u, 3u, 8u}) expect_same(one, read({logs}, threads, 97), threads);
  // A batch as large as the read: one hand-over, the same for any thread count.
  Seen whole = read({logs}, 1, 1u << 20);
  expect_same(whole, read({logs}, 2, 1u << 20), 2);
}

TEST(ParallelRead, ABadRecordInAFileTheSecondThreadReadsIsRejectedWithItsPlace) {
  test::TempDir dir;
  // The first file keeps one thread busy, so the second file is read by the other one.
  std::string big;
  for (int i = 0; i < 20000; ++i) big += row(2, i, "busy" + std::to_string(i % 50)) + "\n";
  std::string first = dir.write("a/1.json", big);
  std::string second = dir.write("a/2.json", row(3, 1, "alice") + "\n" + row(3, 2, "bob") + "\n" +
                                                 "{\"TimeGenerated\":\"2026-11-03T10:00:00Z\",\"EventID\":5140,\"Account\":[1]}\n" +
                                                 row(3, 4, "carol") + "\n" + "not json\n" + row(3, 6, "dave") + "\n");
  Seen two = read({(dir.path() / "a").string()}, 2, 1000);
  ASSERT_EQ(two.rejects.size(), 2u);
  EXPECT_NE(two.rejects[0].find("wrong_type " + second + ":3: field \"Account\""), std::string::npos) << two.rejects[0];
  EXPECT_NE(two.rejects[1].find("json_syntax " + second + ":5:"), std::string::npos) << two.rejects[1];
  // The second file's good rows come after every row of the first, and none is lost.
  std::vector<std::string> users;
  for (size_t i = 0; i < two.events.size(); ++i) users.push_back(two.pools[1][two.events.user[i]]);
  ASSERT_GE(users.size(), 4u);
  std::vector<std::string> tail(users.end() - 4, users.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"contoso\\alice", "contoso\\bob", "contoso\\carol", "contoso\\dave"}));
  expect_same(read({(dir.path() / "a").string()}, 1, 1000), two, 2);
  (void)first;
}

}  // namespace byoml
