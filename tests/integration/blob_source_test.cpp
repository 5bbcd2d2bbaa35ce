// The Blob source against a real Azurite: a generated export tree uploaded as append blobs is
// read through every auth method, and trains and scores exactly as the same tree on disk;
// wrong credentials, a missing container and an expired SAS get clear messages; a blob that
// grows between runs is read from where the last run stopped; listings page past 5,000 blobs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <filesystem>
#include <set>
#include <fstream>

#include "azure_test_util.h"

namespace byoml {
namespace {

namespace fs = std::filesystem;

constexpr const char* kContainer = "am-securityevent";

std::vector<nlohmann::json> jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The result rows without what names the run (its id, the inputs it read).
std::vector<nlohmann::json> rows_without_run(const std::string& path) {
  auto rows = jsonl(path);
  for (auto& r : rows) r.erase("RunId");
  return rows;
}

// The same rows in the older hourly layout (h=HH/m=00/PT1H.json): the 5-minute blobs of each
// hour, concatenated in name order. Fewer blobs to upload, and the other layout is read too.
size_t hourly_tree(const fs::path& from, const fs::path& to) {
  std::set<fs::path> made;
  for (const auto& f : test::sorted_files(from)) {
    fs::path hour = to / fs::relative(f.parent_path().parent_path(), from) / "m=00" / "PT1H.json";
    fs::create_directories(hour.parent_path());
    std::ofstream(hour, std::ios::app | std::ios::binary) << test::file_text(f.string());
    made.insert(hour);
  }
  return made.size();
}

class BlobSource : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::Run s = test::run("sample -q --events 12000 --train-days 5 --test-days 2 --output " + dir_->file("sample"));
    ASSERT_EQ(s.code, 0) << s.out;
    auto manifest = nlohmann::json::parse(test::file_text(dir_->file("sample/manifest.json")));
    test_from_ = manifest["test_window"]["from"].get<std::string>();
    blobs_ = hourly_tree(dir_->path() / "sample/export", dir_->path() / "export");
    ASSERT_GT(blobs_, 100u);
    azurite_ = new test::Azurite();
    test::BlobWriter writer(azurite_->endpoint());
    writer.create_container(kContainer);
    ASSERT_EQ(writer.upload_tree(kContainer, dir_->path() / "export"), blobs_);
    test::Run t = test::run("train -q --no-store --input " + dir_->file("export") + " --to " + test_from_ +
                      " --model " + dir_->file("models-disk"));
    ASSERT_EQ(t.code, 0) << t.out;
  }
  static void TearDownTestSuite() {
    delete azurite_;
    delete dir_;
  }

  static std::string url(const std::string& container = kContainer) { return azurite_->endpoint() + "/" + container; }
  // The byoml command line with the account key in the environment (as a deployment sets it).
  static test::Run with_key(const std::string& args, const std::string& key = test::kDevKey) {
    return test::run(args, "AZURE_STORAGE_KEY='" + key + "'");
  }
  static uint64_t events_of(const test::Run& r) {
    auto j = nlohmann::json::parse(r.out.substr(r.out.find('{')), nullptr, false);
    return j.is_discarded() ? 0 : j["records"]["events"].get<uint64_t>();
  }

  static test::TempDir* dir_;
  static test::Azurite* azurite_;
  static size_t blobs_;
  static std::string test_from_;
};
test::TempDir* BlobSource::dir_ = nullptr;
test::Azurite* BlobSource::azurite_ = nullptr;
size_t BlobSource::blobs_ = 0;
std::string BlobSource::test_from_;

TEST_F(BlobSource, TrainingAndScoringFromTheContainerGiveWhatTheFilesGive) {
  test::TempDir out;
  test::Run t = with_key("train -q --no-store --input " + url() + " --to " + test_from_ + " --model " + out.file("models"));
  ASSERT_EQ(t.code, 0) << t.out;
  auto score = [&](const std::string& input, const std::string& models, const std::string& name, bool per_event) {
    return with_key("score -q --no-store --input " + input + " --from " + test_from_ + " --model " + models +
                    (per_event ? " --per-event" : "") + " --output " + out.file(name));
  };
  test::Run disk = score(dir_->file("export"), dir_->file("models-disk"), "disk.jsonl", false);
  ASSERT_EQ(disk.code, 0) << disk.out;
  test::Run blob = score(url(), out.file("models"), "blob.jsonl", false);
  ASSERT_EQ(blob.code, 0) << blob.out;
  auto a = rows_without_run(out.file("disk.jsonl")), b = rows_without_run(out.file("blob.jsonl"));
  ASSERT_GT(a.size(), 5u);
  EXPECT_EQ(a, b);
  // Every event's score, not only the top rows.
  ASSERT_EQ(score(dir_->file("export"), dir_->file("models-disk"), "disk-events.jsonl", true).code, 0);
  ASSERT_EQ(score(url(), out.file("models"), "blob-events.jsonl", true).code, 0);
  auto da = jsonl(out.file("disk-events.jsonl")), db = jsonl(out.file("blob-events.jsonl"));
  ASSERT_GT(da.size(), 1000u);
  EXPECT_EQ(da, db);
}

TEST_F(BlobSource, EveryStorageCredentialTrainsAndScoresWhatTheFilesDo) {
  test::Run disk = test::run("inspect --json " + dir_->file("export"));
  ASSERT_EQ(disk.code, 0) << disk.out;
  const uint64_t expected = events_of(disk);
  ASSERT_GT(expected, 10000u);

  test::Run key = with_key("inspect --json " + url());
  EXPECT_EQ(key.code, 0) << key.out;
  EXPECT_EQ(events_of(key), expected) << "account key";

  // Each credential trains and scores from the container what the files train and score.
  test::TempDir out;
  const std::string disk_scores = out.file("disk.jsonl");
  ASSERT_EQ(test::run("score -q --no-store --per-event --from " + test_from_ + " --model " + dir_->file("models-disk") +
                      " --input " + dir_->file("export") + " --output " + disk_scores).code,
            0);
  auto train_and_score = [&](const std::string& name, const std::string& input, const std::string& env,
                             const std::string& flags) {
    test::Run t = test::run("train -q --no-store --to " + test_from_ + " --model " + out.file(name) + " --input " + input +
                                flags, env);
    EXPECT_EQ(t.code, 0) << name << ": " << t.out;
    test::Run s = test::run("score -q --no-store --per-event --from " + test_from_ + " --model " + out.file(name) +
                                " --input " + input + flags + " --output " + out.file(name + ".jsonl"), env);
    EXPECT_EQ(s.code, 0) << name << ": " << s.out;
    EXPECT_EQ(jsonl(out.file(name + ".jsonl")), jsonl(disk_scores)) << name;
    return t.out + s.out;
  };
  train_and_score("connection-string", url(), "AZURE_STORAGE_CONNECTION_STRING='" + azurite_->connection_string() + "'", "");
  std::string sas = test::container_sas(kContainer, now_ticks() + kTicksPerHour);
  std::string in_url = train_and_score("sas-in-url", "'" + url() + "?" + sas + "'", "", "");
  test::TempDir conf;
  std::string file = conf.write("credentials.yaml", "storage_sas_token: \"" + sas + "\"\n");
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  std::string from_file = train_and_score("sas-in-file", url(), "", " --credentials " + file);
  // The signature is a secret: it is in no output.
  std::string sig = sas.substr(sas.find("sig=") + 4);
  for (const std::string* r : {&in_url, &from_file}) EXPECT_EQ(r->find(sig), std::string::npos) << *r;

  fs::permissions(file, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  test::Run open_file = test::run("inspect --json --credentials " + file + " " + url());
  EXPECT_EQ(open_file.code, 2) << open_file.out;
  EXPECT_NE(open_file.out.find("chmod 600"), std::string::npos) << open_file.out;
}

TEST_F(BlobSource, AWrongKeyAMissingContainerAndAnExpiredSasSayWhatIsWrong) {
  // A well-formed key of another account.
  std::string wrong = test::kDevKey;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  test::Run key = with_key("inspect " + url(), wrong);
  EXPECT_EQ(key.code, 77) << key.out;
  EXPECT_NE(key.out.find("HTTP 403"), std::string::npos) << key.out;
  EXPECT_NE(key.out.find("account key"), std::string::npos) << key.out;
  EXPECT_EQ(key.out.find(wrong), std::string::npos) << "the key is a secret: " << key.out;

  test::Run missing = with_key("inspect " + url("am-nosuchtable"));
  EXPECT_EQ(missing.code, 4) << missing.out;
  EXPECT_NE(missing.out.find("no container \"am-nosuchtable\""), std::string::npos) << missing.out;

  std::string expired = test::container_sas(kContainer, now_ticks() - kTicksPerHour);
  test::Run sas = test::run("inspect '" + url() + "?" + expired + "'");
  EXPECT_EQ(sas.code, 77) << sas.out;
  EXPECT_NE(sas.out.find("expired"), std::string::npos) << sas.out;
  EXPECT_EQ(sas.out.find(expired.substr(expired.find("sig=") + 4)), std::string::npos) << sas.out;

  // A SAS without the list right is refused by the server itself.
  std::string read_only = test::container_sas(kContainer, now_ticks() + kTicksPerHour, "r");
  test::Run no_list = test::run("inspect '" + url() + "?" + read_only + "'");
  EXPECT_EQ(no_list.code, 77) << no_list.out;
  EXPECT_NE(no_list.out.find("HTTP 403"), std::string::npos) << no_list.out;
  EXPECT_NE(no_list.out.find("SAS token"), std::string::npos) << no_list.out;

  test::Run nobody = test::run("inspect http://127.0.0.1:" + std::to_string(test::free_port()) + "/devstoreaccount1/x --http-attempts 2 --http-backoff 0");
  EXPECT_EQ(nobody.code, 75) << "nothing listens: try again later: " << nobody.out;
}

TEST_F(BlobSource, AGrowingAppendBlobIsReadFromWhereTheLastRunStopped) {
  test::TempDir out;
  const std::string container = "am-growing";
  test::BlobWriter writer(azurite_->endpoint());
  writer.create_container(container);
  // Five rows of the test window, in one export blob that the export keeps appending to.
  std::vector<std::string> rows;
  for (const auto& e : fs::recursive_directory_iterator(dir_->path() / "export")) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path());
    for (std::string line; rows.size() < 12 && std::getline(in, line);)
      if (line.find("\"EventID\":5140") != std::string::npos) rows.push_back(line + "\n");
    if (rows.size() >= 12) break;
  }
  ASSERT_EQ(rows.size(), 12u);
  const std::string blob = "WorkspaceResourceId=/subscriptions/s/resourcegroups/r/providers/microsoft.operationalinsights/"
                           "workspaces/w/y=2026/m=11/d=28/h=10/m=05/PT05M.json";
  writer.put_append_blob(container, blob, rows[0] + rows[1] + rows[2] + rows[3] + rows[4]);
  auto score = [&](const std::string& name) {
    test::Run r = with_key("score -q --no-store --input " + url(container) + " --model " + dir_->file("models-disk") +
                     " --positions " + out.file("positions.jsonl") + " --per-event --output " + out.file(name));
    return std::make_pair(r, jsonl(out.file(name)).size());
  };
  auto [first, n1] = score("1.jsonl");
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_EQ(n1, 5u);
  auto positions = jsonl(out.file("positions.jsonl"));
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0]["object"], blob);
  EXPECT_EQ(positions[0]["offset"], positions[0]["size"]);

  // Nothing new: nothing read, and a warning says so.
  auto [idle, n0] = score("0.jsonl");
  EXPECT_EQ(idle.code, 0) << idle.out;
  EXPECT_EQ(n0, 0u);
  EXPECT_NE(idle.out.find("nothing new since the positions"), std::string::npos) << idle.out;

  // Three more rows and half of a fourth (the export is still writing it).
  const std::string& half = rows[8];
  writer.append(container, blob, rows[5] + rows[6] + rows[7] + half.substr(0, half.size() / 2));
  auto [second, n2] = score("2.jsonl");
  ASSERT_EQ(second.code, 0) << second.out;
  EXPECT_EQ(n2, 3u) << "only the new complete rows";
  auto again = jsonl(out.file("positions.jsonl"));
  EXPECT_LT(again[0]["offset"].get<uint64_t>(), again[0]["size"].get<uint64_t>()) << "the half row is left for later";

  writer.append(container, blob, half.substr(half.size() / 2) + rows[9]);
  auto [third, n3] = score("3.jsonl");
  ASSERT_EQ(third.code, 0) << third.out;
  EXPECT_EQ(n3, 2u) << "the finished row and the next, each once";
  std::set<std::string> ids;
  for (const char* f : {"1.jsonl", "2.jsonl", "3.jsonl"})
    for (const auto& e : jsonl(out.file(f))) ids.insert(e["EventOriginId"].get<std::string>());
  EXPECT_EQ(ids.size(), 10u) << "every row once";
}

TEST_F(BlobSource, ListingsArePagedPast5000Blobs) {
  const std::string container = "am-many";
  test::BlobWriter writer(azurite_->endpoint());
  writer.create_container(container);
  std::vector<std::string> names;
  for (int i = 0; i < 5100; ++i) names.push_back(fmt::format("rows/{:05}.json", i));
  writer.create_append_blobs(container, names);
  auto cloud = CloudContext::make([] {
    CloudCredentials c;
    c.storage_key = test::kDevKey;
    return c;
  }(), HttpOptions());
  auto transport = transport_for(url(container), cloud);
  ASSERT_TRUE(transport) << transport.status().message();
  std::vector<SkippedObject> skipped;
  auto listed = (*transport)->list(url(container), {}, skipped);
  ASSERT_TRUE(listed) << listed.status().message();
  ASSERT_EQ(listed->size(), 5100u);
  EXPECT_TRUE(skipped.empty());
  for (size_t i = 0; i < names.size(); ++i) ASSERT_EQ((*listed)[i].name, names[i]);
  // The window's days only: a tree of two days, listed for one.
  writer.create_append_blobs(container, {"t/y=2026/m=11/d=27/h=10/m=00/PT05M.json", "t/y=2026/m=11/d=28/h=10/m=00/PT05M.json",
                                         "t/y=2026/m=11/d=28/h=10/m=05/PT05M.json"});
  ListHint day;
  day.window = {make_ticks(2026, 11, 28), make_ticks(2026, 11, 29)};
  auto tree = transport_for(url(container) + "/t", cloud);
  ASSERT_TRUE(tree) << tree.status().message();
  auto pruned = (*tree)->list(url(container) + "/t", day, skipped);
  ASSERT_TRUE(pruned) << pruned.status().message();
  ASSERT_EQ(pruned->size(), 2u);
  EXPECT_EQ((*pruned)[0].name, "t/y=2026/m=11/d=28/h=10/m=00/PT05M.json");
}

}  // namespace
}  // namespace byoml
