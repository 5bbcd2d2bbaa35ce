#include "byoml/sample/enterprise_sample.h"
#include "byoml/common/param_table.h"
#include "byoml/common/atomic_file.h"

#include <fmt/format.h>

#include <system_error>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "byoml/common/rng.h"
#include "byoml/sources/export_layout.h"

namespace byoml {
namespace fs = std::filesystem;
namespace {

constexpr const char* kNetbiosDomain = "CONTOSO";
constexpr const char* kTenant = "5b3c1a2e-7d4f-4e8a-9c61-2f0b8d9e4a17";
constexpr const char* kWorkspace =
    "WorkspaceResourceId=/subscriptions/3f2a9c1e-0b7d-4e55-8a1f-6c2d9e0b7a44/resourcegroups/soc-rg/providers/"
    "microsoft.operationalinsights/workspaces/soc-sentinel";

const char* const kDepartments[] = {"Finance", "HR",         "Engineering", "Sales",       "Marketing", "Legal",
                                    "IT",      "Operations", "Research",    "Support",     "Procurement", "Facilities"};
const char* const kFirst[] = {"alex", "maria", "john", "li", "fatima", "omar", "sofia", "liam", "emma", "noah",
                              "ava", "lucas", "mia", "ethan", "zoe", "arjun", "chen", "yuki", "ines", "pavel",
                              "nora", "david", "sara", "ivan", "lea", "tom", "anna", "ben", "chloe", "dan"};
const char* const kLast[] = {"smith", "garcia", "chen", "khan", "muller", "rossi", "novak", "tanaka", "silva",
                             "jones", "brown", "martin", "lee", "patel", "kim", "dubois", "nowak", "meyer",
                             "costa", "ward", "hughes", "berg", "fox", "hale", "ito", "lopez", "park", "reid"};

enum class ShareKind : uint8_t { kTeam, kDepartment, kRestricted, kCorporate, kAdmin, kDomain, kProject };

struct Share {
  uint32_t server;
  std::string name;      // as ShareName: \\*\NAME
  std::string path;      // ShareLocalPath
  int dept = -1, team = -1;
  ShareKind kind;
};

struct Server {
  std::string fqdn;
  std::string resource_id;
};

enum Label : uint8_t { kNormal = 0, kNovelty = 1, kAnomaly = 2 };

struct Habit {
  uint32_t share;
  double weight;
  int from_day;  // active from this day on
  int to_day;    // until before this day
  Label label;
  uint8_t kind;  // index into kKinds
};

const char* const kKinds[] = {"",         "new_hire", "new_share", "other_team_share", "cross_department_project",
                              "transfer", "compromised_account", "share_sweep", "sensitive_read",
                              "admin_share_nonadmin", "joined_project", "new_project"};
enum Kind : uint8_t { kNone, kNewHire, kNewShare, kOtherTeamShare, kCrossProject, kTransfer, kCompromised,
                      kSweep, kSensitive, kAdminShare, kJoinedProject, kNewProject };

enum class Role : uint8_t { kStaff, kManager, kAdmin, kService, kMachine };

struct Person {
  std::string user;     // SubjectUserName
  std::string sid;
  std::string ip;
  int dept = -1, team = -1;
  Role role = Role::kStaff;
  double rate = 1.0;  // relative activity
  int from_day = 0;                      // hired on this day (0: present from the start)
  std::vector<std::pair<int, int>> moves;  // (day, department) of each transfer
  int first_dept = -1;
  bool contractor = false;  // projects: an outside worker (ext.*), on projects only
  std::vector<Habit> habits;
  bool uses(uint32_t share) const {
    return std::any_of(habits.begin(), habits.end(), [&](const Habit& h) { return h.share == share; });
  }
};

struct Ev {
  Ticks t;
  uint32_t person, share;
  Label label;
  uint8_t kind;
  uint16_t incident;
  bool detail;  // a 5145 row
  std::string_view ip;
};

// Escapes for a JSON string body (the generator's own names are plain, but share and user
// names go through here so a change to them can never produce invalid JSON).
std::string jesc(std::string_view s) {
  std::string j = nlohmann::json(std::string(s)).dump();
  return j.substr(1, j.size() - 2);
}

std::string guid(Rng& r) {
  uint64_t a = r.next(), b = r.next();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     ((b >> 48) & 0x3fff) | 0x8000, b & 0xffffffffffffull);
}

class Generator {
 public:
  Generator(const EnterpriseSampleSpec& spec, const std::string& out) : spec_(spec), out_(out), rng_(spec.seed) {}

  Result<EnterpriseSampleSummary> run(const ProgressFn& progress);

 private:
  void build_org();
  void build_departments(Rng& r, uint32_t users);
  void build_projects(Rng& r, uint32_t users);
  void script_anomalies(Rng& n);
  Person new_person(Rng& r, int dept, int team, Role role);
  uint32_t staff_from(Rng& r) const;
  uint32_t add_share(uint32_t server, std::string name, ShareKind kind, int dept, int team);
  uint32_t add_server(const std::string& host);
  void add_company_shares();
  uint32_t add_department_server(int dept);
  std::vector<uint32_t> shares_where(ShareKind kind, int dept) const;
  Ticks work_time(Rng& r, Ticks day) const;
  void day_events(int day, std::vector<Ev>& out);
  void inject_anomalies(int day, std::vector<Ev>& out);
  Status write_day(int day, std::vector<Ev>& evs, FILE* labels);
  Status write_identity(const std::string& path) const;
  Status write_slot(Ticks slot, int overflow, const Ev* begin, const Ev* end, FILE* labels);

  const EnterpriseSampleSpec& spec_;
  std::string out_;
  Rng rng_;
  std::vector<std::string> dept_names_;
  std::vector<int> teams_per_dept_;
  std::vector<Server> servers_;
  std::vector<Share> shares_;
  std::vector<Person> people_;
  double base_rate_ = 1.0;
  struct Incident {
    int day;
    Kind kind;
    uint32_t person;
    uint16_t id;
  };
  std::vector<Incident> incidents_;
  std::map<std::string, int> names_used_;
  uint32_t next_rid_ = 1104;
  EnterpriseSampleSummary sum_;
  fs::path last_dir_;
  fmt::memory_buffer buf_;
};

uint32_t Generator::add_server(const std::string& host) {
  servers_.push_back({fmt::format("{}.contoso.local", host),
                      fmt::format("/subscriptions/3f2a9c1e-0b7d-4e55-8a1f-6c2d9e0b7a44/resourcegroups/servers-rg/"
                                  "providers/microsoft.compute/virtualmachines/{}",
                                  host)});
  std::transform(servers_.back().resource_id.begin(), servers_.back().resource_id.end(),
                 servers_.back().resource_id.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
  return static_cast<uint32_t>(servers_.size() - 1);
}

uint32_t Generator::add_share(uint32_t server, std::string name, ShareKind kind, int dept, int team) {
  std::string path = kind == ShareKind::kAdmin ? (name == "C$" ? "\\??\\C:\\" : "\\??\\C:\\Windows")
                     : kind == ShareKind::kDomain ? fmt::format("\\??\\C:\\Windows\\SYSVOL\\{}", name)
                                                  : fmt::format("\\??\\D:\\Shares\\{}", name);
  shares_.push_back({server, "\\\\*\\" + name, path, dept, team, kind});
  return static_cast<uint32_t>(shares_.size() - 1);
}

// The domain controllers' SYSVOL and NETLOGON, and the company-wide shares on FS-CORP01.
void Generator::add_company_shares() {
  uint32_t dc1 = add_server("DC01"), dc2 = add_server("DC02");
  uint32_t corp = add_server("FS-CORP01");
  for (uint32_t dc : {dc1, dc2}) {
    add_share(dc, "SYSVOL", ShareKind::kDomain, -1, -1);
    add_share(dc, "NETLOGON", ShareKind::kDomain, -1, -1);
  }
  for (const char* s : {"Public", "Policies", "Software"}) add_share(corp, s, ShareKind::kCorporate, -1, -1);
}

// Department d's file server (FS-FIN01, ...) with its department and restricted shares.
uint32_t Generator::add_department_server(int d) {
  std::string code = dept_names_[d].substr(0, 3);
  std::transform(code.begin(), code.end(), code.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
  uint32_t fs = add_server(fmt::format("FS-{}{:02}", code, d + 1));
  add_share(fs, dept_names_[d], ShareKind::kDepartment, d, -1);
  add_share(fs, dept_names_[d] + "-Restricted", ShareKind::kRestricted, d, -1);
  return fs;
}

std::vector<uint32_t> Generator::shares_where(ShareKind kind, int dept) const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < shares_.size(); ++i)
    if (shares_[i].kind == kind && (dept < 0 || shares_[i].dept == dept)) out.push_back(i);
  return out;
}

Person Generator::new_person(Rng& r, int d, int t, Role role) {
  Person p;
  std::string base = fmt::format("{}.{}", kFirst[r.below(std::size(kFirst))], kLast[r.below(std::size(kLast))]);
  int n = names_used_[base]++;
  p.user = n == 0 ? base : fmt::format("{}{}", base, n + 1);
  p.sid = fmt::format("S-1-5-21-3623811015-3361044348-30300820-{}", next_rid_++);
  p.ip = fmt::format("10.{}.{}.{}", 10 + d % 200, t + 1, 10 + r.below(240));
  p.dept = p.first_dept = d;
  p.team = t;
  p.role = role;
  p.rate = std::exp(0.4 * r.normal());  // some people use shares far more than others
  return p;
}

uint32_t Generator::staff_from(Rng& g) const {  // one of the staff present from the start
  for (;;) {
    uint32_t i = static_cast<uint32_t>(g.below(sum_.people));
    if (people_[i].role == Role::kStaff && !people_[i].contractor) return i;
  }
}

void Generator::build_org() {
  Rng r = rng_.fork(1);
  uint32_t users = spec_.users ? spec_.users : static_cast<uint32_t>(std::clamp<uint64_t>(spec_.events / 650, 40, 2'000'000));
  if (spec_.structure == CompanyStructure::kProjects) build_projects(r, users);
  else build_departments(r, users);
  sum_.shares = static_cast<uint32_t>(shares_.size());
  sum_.servers = static_cast<uint32_t>(servers_.size());
  sum_.departments = static_cast<uint32_t>(dept_names_.size());

  // Activity per person-day chosen so the total comes out near spec_.events: people work on
  // weekdays from the day they start, service and machine accounts every day.
  const int days = spec_.train_days + spec_.test_days;
  std::vector<double> workdays_from(static_cast<size_t>(days) + 1, 0);  // weekdays count 1, weekend days 0.1
  for (int d = days - 1; d >= 0; --d)
    workdays_from[d] = workdays_from[d + 1] + (weekday(spec_.start + d * kTicksPerDay) < 5 ? 1.0 : 0.1);
  double weight = 0;
  for (const auto& p : people_) {
    bool always = p.role == Role::kService || p.role == Role::kMachine;
    weight += p.rate * (always ? days - p.from_day : workdays_from[p.from_day]);
  }
  base_rate_ = static_cast<double>(spec_.events) / std::max(1.0, weight);
}

// Anomalies: each an incident on one day of the test window, drawn here so that the same seed
// always yields the same incidents.
void Generator::script_anomalies(Rng& n) {
  auto test_day = [&] { return spec_.train_days + static_cast<int>(n.below(static_cast<uint64_t>(std::max(1, spec_.test_days)))); };
  uint16_t id = 0;
  auto add = [&](Kind k, uint32_t count) {
    for (uint32_t i = 0; i < count; ++i) {
      int day = test_day();
      incidents_.push_back({day, k, staff_from(n), ++id});
    }
  };
  add(kCompromised, std::max<uint32_t>(2, sum_.people / 150));
  add(kSweep, std::max<uint32_t>(1, sum_.people / 300));
  add(kSensitive, std::max<uint32_t>(3, sum_.people / 80));
  add(kAdminShare, std::max<uint32_t>(2, sum_.people / 150));
}

// A company of departments and teams: team shares, a department share and a restricted one
// per department, company-wide shares; weekly novelty of the same kinds in training.
void Generator::build_departments(Rng& r, uint32_t users) {
  int depts = std::clamp(static_cast<int>(users / 25), 3, 60);
  for (int d = 0; d < depts; ++d)
    dept_names_.push_back(d < 12 ? kDepartments[d] : fmt::format("Division{:02}", d + 1));
  // Department sizes vary (weights 1..3); every department has at least two people.
  std::vector<double> cum;
  for (int d = 0; d < depts; ++d) cum.push_back((cum.empty() ? 0 : cum.back()) + 1.0 + static_cast<double>(r.below(3)));
  std::vector<uint32_t> size(static_cast<size_t>(depts), 2);
  for (uint32_t u = 2 * static_cast<uint32_t>(depts); u < users; ++u) ++size[r.pick(cum)];

  add_company_shares();
  for (int d = 0; d < depts; ++d) {
    uint32_t fs = add_department_server(d);
    int teams = std::clamp(static_cast<int>(size[d] / 8), 2, 12);
    teams_per_dept_.push_back(teams);
    for (int t = 0; t < teams; ++t) add_share(fs, fmt::format("{}-Team{}", dept_names_[d], t + 1), ShareKind::kTeam, d, t);
  }
  for (uint32_t s = 0; s < servers_.size(); ++s) {
    add_share(s, "C$", ShareKind::kAdmin, -1, -1);
    add_share(s, "ADMIN$", ShareKind::kAdmin, -1, -1);
  }

  auto corp_shares = shares_where(ShareKind::kCorporate, -1);
  auto admin_shares = shares_where(ShareKind::kAdmin, -1);
  auto new_person = [&](int d, int t, Role role) { return this->new_person(r, d, t, role); };
  auto staff_habits = [&](Person& p, int d, int t, int from, int to, Label label, uint8_t kind) {
    for (uint32_t s : shares_where(ShareKind::kTeam, d))
      if (shares_[s].team == t) p.habits.push_back({s, 6.0, from, to, label, kind});
    for (uint32_t s : shares_where(ShareKind::kDepartment, d)) p.habits.push_back({s, 2.5, from, to, label, kind});
    if (p.role == Role::kManager)
      for (uint32_t s : shares_where(ShareKind::kRestricted, d)) p.habits.push_back({s, 1.0, from, to, label, kind});
    for (uint32_t s : corp_shares) p.habits.push_back({s, 0.3 + 0.4 * r.real(), from, to, label, kind});
  };
  const int all_days = spec_.train_days + spec_.test_days;
  for (int d = 0; d < depts; ++d) {
    for (uint32_t i = 0; i < size[d]; ++i) {
      int t = static_cast<int>(r.below(static_cast<uint64_t>(teams_per_dept_[d])));
      bool it_admin = dept_names_[d] == "IT" && i < std::max<uint32_t>(2, size[d] / 4);
      Role role = it_admin ? Role::kAdmin : (r.chance(0.1) ? Role::kManager : Role::kStaff);
      Person p = new_person(d, t, role);
      staff_habits(p, d, t, 0, all_days, kNormal, kNone);
      // Some people regularly use one other team's share in their department.
      if (teams_per_dept_[d] > 1 && r.chance(0.3)) {
        int other = (t + 1 + static_cast<int>(r.below(static_cast<uint64_t>(teams_per_dept_[d] - 1)))) % teams_per_dept_[d];
        for (uint32_t s : shares_where(ShareKind::kTeam, d))
          if (shares_[s].team == other) p.habits.push_back({s, 1.0, 0, all_days, kNormal, kNone});
      }
      if (role == Role::kAdmin)
        for (uint32_t s : admin_shares) p.habits.push_back({s, 0.4, 0, all_days, kNormal, kNone});
      people_.push_back(std::move(p));
    }
  }
  sum_.people = static_cast<uint32_t>(people_.size());
  // Service accounts touch many shares, around the clock.
  for (const char* name : {"svc_backup", "svc_av_scan", "svc_dfsr"}) {
    Person p = new_person(0, 0, Role::kService);
    p.user = name;
    p.ip = fmt::format("10.0.0.{}", 20 + sum_.service_accounts);
    p.rate = 3.0;
    for (uint32_t s = 0; s < shares_.size(); ++s)
      if (shares_[s].kind != ShareKind::kAdmin || std::string_view(name) == "svc_backup")
        p.habits.push_back({s, 1.0, 0, all_days, kNormal, kNone});
    people_.push_back(std::move(p));
    ++sum_.service_accounts;
  }
  // Workstations read group policy from the domain controllers.
  uint32_t machines = std::clamp<uint32_t>(sum_.people / 4, 4, 50000);
  auto domain_shares = shares_where(ShareKind::kDomain, -1);
  for (uint32_t m = 0; m < machines; ++m) {
    Person p = new_person(static_cast<int>(m % static_cast<uint32_t>(depts)), 0, Role::kMachine);
    p.user = fmt::format("WS{:05}$", m + 1);
    p.rate = 0.3;
    for (uint32_t s : domain_shares) p.habits.push_back({s, 1.0, 0, all_days, kNormal, kNone});
    people_.push_back(std::move(p));
    ++sum_.machine_accounts;
  }

  // Legitimate novelty: new hires, new team shares, people starting on another team's share, a
  // cross-department project and (in the test window) transfers, over `span` days from `first`.
  // The test window's is labelled; the training window's is everyday background (a real
  // company's pairs keep appearing), which training holds out to calibrate its alert threshold.
  auto novelty = [&](Rng& n, int first, int span, Label label, const std::string& tag) {
    auto kind = [&](Kind k) { return static_cast<uint8_t>(label == kNovelty ? k : kNone); };
    auto staff = [&]() { return staff_from(n); };
    auto day_in = [&](int within) { return first + static_cast<int>(n.below(static_cast<uint64_t>(std::max(1, std::min(within, span))))); };
    for (uint32_t k = 0; k < std::max<uint32_t>(1, sum_.people / 50); ++k) {  // new hires
      int d = static_cast<int>(n.below(static_cast<uint64_t>(depts)));
      int t = static_cast<int>(n.below(static_cast<uint64_t>(teams_per_dept_[d])));
      Person p = new_person(d, t, Role::kStaff);
      p.from_day = day_in(3);
      staff_habits(p, d, t, p.from_day, all_days, label, kind(kNewHire));
      people_.push_back(std::move(p));
    }
    for (int d = 0; d < depts; ++d) {  // a new share for one team per department
      int t = static_cast<int>(n.below(static_cast<uint64_t>(teams_per_dept_[d])));
      uint32_t fs = shares_[shares_where(ShareKind::kDepartment, d)[0]].server;
      uint32_t s = add_share(fs, fmt::format("{}-Team{}-{}", dept_names_[d], t + 1, tag), ShareKind::kTeam, d, t);
      int from = day_in(3);
      for (uint32_t i = 0; i < sum_.people; ++i)
        if (people_[i].dept == d && people_[i].team == t && people_[i].role != Role::kService && people_[i].role != Role::kMachine)
          people_[i].habits.push_back({s, 3.0, from, all_days, label, kind(kNewShare)});
    }
    for (uint32_t k = 0; k < std::max<uint32_t>(2, sum_.people / 40); ++k) {  // starting on another team's share
      Person& p = people_[staff()];
      if (teams_per_dept_[p.dept] < 2) continue;
      int other = (p.team + 1) % teams_per_dept_[p.dept];
      for (uint32_t s : shares_where(ShareKind::kTeam, p.dept))
        if (shares_[s].team == other && std::none_of(p.habits.begin(), p.habits.end(), [&](const Habit& h) { return h.share == s; }))
          p.habits.push_back({s, 2.0, day_in(5), all_days, label, kind(kOtherTeamShare)});
    }
    {  // a cross-department project: a few people of one department start on another's share
      int a = static_cast<int>(n.below(static_cast<uint64_t>(depts)));
      int b = (a + 1) % depts;
      uint32_t target = shares_where(ShareKind::kDepartment, b)[0];
      int from = day_in(2);
      int members = 0;
      for (uint32_t i = 0; i < sum_.people && members < 5; ++i)
        if (people_[i].dept == a && people_[i].role == Role::kStaff &&
            std::none_of(people_[i].habits.begin(), people_[i].habits.end(), [&](const Habit& h) { return h.share == target; })) {
          people_[i].habits.push_back({target, 2.0, from, all_days, label, kind(kCrossProject)});
          ++members;
        }
    }
    if (label != kNovelty) return;
    for (uint32_t k = 0; k < std::max<uint32_t>(1, sum_.people / 100); ++k) {  // transfers
      Person& p = people_[staff()];
      int from = day_in(2);
      for (auto& h : p.habits)
        if (shares_[h.share].dept == p.dept && h.to_day > from) h.to_day = from;
      int d = (p.dept + 1 + static_cast<int>(n.below(static_cast<uint64_t>(depts - 1)))) % depts;
      int t = static_cast<int>(n.below(static_cast<uint64_t>(teams_per_dept_[d])));
      for (uint32_t s : shares_where(ShareKind::kTeam, d))
        if (shares_[s].team == t) p.habits.push_back({s, 6.0, from, all_days, kNovelty, kTransfer});
      for (uint32_t s : shares_where(ShareKind::kDepartment, d)) p.habits.push_back({s, 2.5, from, all_days, kNovelty, kTransfer});
      p.dept = d;
      p.team = t;
      p.moves.emplace_back(from, d);
    }
  };
  const int T = spec_.train_days;
  // The same novelty every week of training from the second on (scripted first, so that it
  // never reaches for the test window's shares): the test week is an ordinary week, but for
  // its anomalies and transfers.
  for (int week = 1; 7 * week < T; ++week) {
    Rng w = rng_.fork(100 + static_cast<uint64_t>(week));
    novelty(w, 7 * week, std::min(7, T - 7 * week), kNormal, fmt::format("W{}", week));
  }
  Rng n = rng_.fork(2);
  novelty(n, T, spec_.test_days, kNovelty, "Projects");
  script_anomalies(n);
}

// A flatter company that works in projects: a few large departments without teams, project
// shares whose members come from several departments and change week by week, a quarter of
// the staff contractors on projects only, twice the service accounts at three times the
// traffic, and a reorganisation halfway through the window that moves a third of the
// employees to other departments (recorded in the identity data).
void Generator::build_projects(Rng& r, uint32_t users) {
  int depts = std::clamp(static_cast<int>(users / 100), 2, 12);
  for (int d = 0; d < depts; ++d) dept_names_.push_back(kDepartments[d]);

  add_company_shares();
  for (int d = 0; d < depts; ++d) add_department_server(d);
  // Projects live on their own servers, 25 to a server; a project's department is the one
  // that owns it, its `team` its number.
  std::vector<uint32_t> project_servers;
  int next_project = 1001;
  auto add_project = [&](int owner) {
    size_t n = shares_where(ShareKind::kProject, -1).size();
    if (n % 25 == 0) project_servers.push_back(add_server(fmt::format("FS-PRJ{:02}", project_servers.size() + 1)));
    int number = next_project++;
    return add_share(project_servers.back(), fmt::format("PRJ-{}", number), ShareKind::kProject, owner, number);
  };
  const int projects = std::max(4, static_cast<int>(users / 10));
  for (int k = 0; k < projects; ++k) add_project(static_cast<int>(r.below(static_cast<uint64_t>(depts))));
  auto corp_shares = shares_where(ShareKind::kCorporate, -1);
  auto public_share = corp_shares.front();

  const int all_days = spec_.train_days + spec_.test_days;
  auto employee_habits = [&](Person& p, int d, int from, int to, Label label, uint8_t kind) {
    for (uint32_t s : shares_where(ShareKind::kDepartment, d)) p.habits.push_back({s, 2.0, from, to, label, kind});
    if (p.role == Role::kManager)
      for (uint32_t s : shares_where(ShareKind::kRestricted, d)) p.habits.push_back({s, 1.0, from, to, label, kind});
  };
  // A person's projects: a main one, and a second and third with falling odds and weight.
  auto join_projects = [&](Rng& g, Person& p, int from, Label label, uint8_t kind) {
    auto all = shares_where(ShareKind::kProject, -1);
    for (double weight : {5.0, 2.5, 1.5}) {
      uint32_t s = all[g.below(all.size())];
      if (!p.uses(s)) p.habits.push_back({s, weight, from, all_days, label, kind});
      if (!g.chance(0.45)) break;
    }
  };
  auto add_staff = [&](Rng& g, int from, Label label, uint8_t kind) {
    int d = static_cast<int>(g.below(static_cast<uint64_t>(depts)));
    bool contractor = g.chance(0.25);
    bool it_admin = !contractor && dept_names_[d] == "IT" && g.chance(0.2);
    Role role = it_admin ? Role::kAdmin : (!contractor && g.chance(0.08) ? Role::kManager : Role::kStaff);
    Person p = new_person(g, d, 0, role);
    if (contractor) {
      p.contractor = true;
      p.user = "ext." + p.user;
      p.habits.push_back({public_share, 0.5, from, all_days, label, kind});
    } else {
      employee_habits(p, d, from, all_days, label, kind);
      for (uint32_t s : corp_shares) p.habits.push_back({s, 0.3 + 0.4 * g.real(), from, all_days, label, kind});
    }
    if (role == Role::kAdmin)
      for (uint32_t s : shares_where(ShareKind::kAdmin, -1)) p.habits.push_back({s, 0.4, from, all_days, label, kind});
    join_projects(g, p, from, label, kind);
    p.from_day = from;
    people_.push_back(std::move(p));
  };
  for (uint32_t s = 0; s < servers_.size(); ++s) {
    add_share(s, "C$", ShareKind::kAdmin, -1, -1);
    add_share(s, "ADMIN$", ShareKind::kAdmin, -1, -1);
  }
  for (uint32_t i = 0; i < users; ++i) add_staff(r, 0, kNormal, kNone);
  sum_.people = static_cast<uint32_t>(people_.size());

  // Service accounts: backup, scanning and replication everywhere; databases, ETL and archiving
  // on the project shares; monitoring on the admin shares.
  struct Service {
    const char* name;
    bool (*touches)(ShareKind);
  };
  const Service services[] = {
      {"svc_backup", [](ShareKind) { return true; }},
      {"svc_av_scan", [](ShareKind k) { return k != ShareKind::kAdmin; }},
      {"svc_dfsr", [](ShareKind k) { return k == ShareKind::kDepartment || k == ShareKind::kCorporate || k == ShareKind::kDomain; }},
      {"svc_index", [](ShareKind k) { return k == ShareKind::kDepartment || k == ShareKind::kCorporate || k == ShareKind::kProject; }},
      {"svc_sql", [](ShareKind k) { return k == ShareKind::kProject; }},
      {"svc_etl", [](ShareKind k) { return k == ShareKind::kProject; }},
      {"svc_archive", [](ShareKind k) { return k == ShareKind::kProject || k == ShareKind::kRestricted; }},
      {"svc_monitor", [](ShareKind k) { return k == ShareKind::kAdmin; }}};
  for (const Service& svc : services) {
    Person p = new_person(r, 0, 0, Role::kService);
    p.user = svc.name;
    p.ip = fmt::format("10.0.0.{}", 20 + sum_.service_accounts);
    p.rate = 9.0;
    for (uint32_t s = 0; s < shares_.size(); ++s)
      if (svc.touches(shares_[s].kind)) p.habits.push_back({s, 1.0, 0, all_days, kNormal, kNone});
    people_.push_back(std::move(p));
    ++sum_.service_accounts;
  }
  uint32_t machines = std::clamp<uint32_t>(sum_.people / 4, 4, 50000);
  for (uint32_t m = 0; m < machines; ++m) {
    Person p = new_person(r, static_cast<int>(m % static_cast<uint32_t>(depts)), 0, Role::kMachine);
    p.user = fmt::format("WS{:05}$", m + 1);
    p.rate = 0.3;
    for (uint32_t s : shares_where(ShareKind::kDomain, -1)) p.habits.push_back({s, 1.0, 0, all_days, kNormal, kNone});
    people_.push_back(std::move(p));
    ++sum_.machine_accounts;
  }

  // The reorganisation, halfway through the window: a third of the employees change department.
  const int reorg = all_days / 2;
  for (uint32_t i = 0; i < sum_.people; ++i) {
    Person& p = people_[i];
    if (p.contractor || p.role != Role::kStaff || !r.chance(0.33)) continue;
    int d = (p.dept + 1 + static_cast<int>(r.below(static_cast<uint64_t>(depts - 1)))) % depts;
    for (auto& h : p.habits)
      if (shares_[h.share].kind == ShareKind::kDepartment && h.to_day > reorg) h.to_day = reorg;
    employee_habits(p, d, reorg, all_days, kNormal, kNone);
    p.dept = d;
    p.moves.emplace_back(reorg, d);
  }

  // Novelty every week from the second, labelled in the test window: hires (a quarter of them
  // contractors), a new project with members from several departments, people joining running
  // projects, contracts that end, and (in the test window) transfers.
  auto novelty = [&](Rng& n, int first, int span, Label label) {
    auto kind = [&](Kind k) { return static_cast<uint8_t>(label == kNovelty ? k : kNone); };
    auto day_in = [&](int within) { return first + static_cast<int>(n.below(static_cast<uint64_t>(std::max(1, std::min(within, span))))); };
    for (uint32_t k = 0; k < std::max<uint32_t>(1, sum_.people / 50); ++k) add_staff(n, day_in(3), label, kind(kNewHire));
    {
      uint32_t s = add_project(static_cast<int>(n.below(static_cast<uint64_t>(depts))));
      int from = day_in(3);
      for (int members = 0, want = 3 + static_cast<int>(n.below(4)); members < want;) {
        Person& p = people_[staff_from(n)];
        if (p.uses(s)) continue;
        p.habits.push_back({s, 4.0, from, all_days, label, kind(kNewProject)});
        ++members;
      }
    }
    auto running = shares_where(ShareKind::kProject, -1);
    for (uint32_t k = 0; k < std::max<uint32_t>(2, sum_.people / 30); ++k) {
      Person& p = people_[staff_from(n)];
      uint32_t s = running[n.below(running.size())];
      if (!p.uses(s)) p.habits.push_back({s, 2.5, day_in(5), all_days, label, kind(kJoinedProject)});
    }
    for (uint32_t i = 0; i < sum_.people; ++i)
      if (people_[i].contractor && n.chance(0.05)) {
        int end = day_in(span);
        for (auto& h : people_[i].habits) h.to_day = std::min(h.to_day, end);
      }
    if (label != kNovelty) return;
    for (uint32_t k = 0; k < std::max<uint32_t>(1, sum_.people / 100); ++k) {
      Person& p = people_[staff_from(n)];
      int from = day_in(2);
      for (auto& h : p.habits)
        if (shares_[h.share].kind == ShareKind::kDepartment && h.to_day > from) h.to_day = from;
      int d = (p.dept + 1 + static_cast<int>(n.below(static_cast<uint64_t>(depts - 1)))) % depts;
      employee_habits(p, d, from, all_days, kNovelty, kTransfer);
      p.dept = d;
      p.moves.emplace_back(from, d);
    }
  };
  const int T = spec_.train_days;
  for (int week = 1; 7 * week < T; ++week) {
    Rng w = rng_.fork(100 + static_cast<uint64_t>(week));
    novelty(w, 7 * week, std::min(7, T - 7 * week), kNormal);
  }
  Rng n = rng_.fork(2);
  novelty(n, T, spec_.test_days, kNovelty);
  script_anomalies(n);
}

Ticks Generator::work_time(Rng& r, Ticks day) const {
  double hour = std::clamp(13.0 + 2.6 * r.normal(), 6.5, 21.5);
  return day + static_cast<Ticks>(hour * static_cast<double>(kTicksPerHour)) + static_cast<Ticks>(r.below(kTicksPerMinute));
}

void Generator::day_events(int day, std::vector<Ev>& out) {
  Rng r = rng_.fork(1000 + static_cast<uint64_t>(day));
  Ticks start = spec_.start + day * kTicksPerDay;
  double weekday_factor = weekday(start) < 5 ? 1.0 : 0.1;
  std::vector<double> cum;
  std::vector<const Habit*> active;
  for (uint32_t i = 0; i < people_.size(); ++i) {
    const Person& p = people_[i];
    cum.clear();
    active.clear();
    for (const auto& h : p.habits)
      if (day >= h.from_day && day < h.to_day) {
        active.push_back(&h);
        cum.push_back((cum.empty() ? 0 : cum.back()) + h.weight);
      }
    if (active.empty()) continue;
    double f = p.role == Role::kService || p.role == Role::kMachine ? 1.0 : weekday_factor;
    uint64_t n = r.poisson(base_rate_ * p.rate * f);
    for (uint64_t k = 0; k < n; ++k) {
      const Habit& h = *active[r.pick(cum)];
      Ticks t = p.role == Role::kService || p.role == Role::kMachine
                    ? start + static_cast<Ticks>(r.below(static_cast<uint64_t>(kTicksPerDay)))
                    : work_time(r, start);
      out.push_back({t, i, h.share, h.label, h.kind, 0, r.chance(spec_.detail_ratio), p.ip});
    }
  }
}

void Generator::inject_anomalies(int day, std::vector<Ev>& out) {
  Rng r = rng_.fork(5000 + static_cast<uint64_t>(day));
  Ticks start = spec_.start + day * kTicksPerDay;
  for (const auto& inc : incidents_) {
    if (inc.day != day) continue;
    const Person& p = people_[inc.person];
    // Shares of another department (and, in a company of projects, projects the person is
    // not on and shares the person used before a move).
    const bool projects = spec_.structure == CompanyStructure::kProjects;
    auto foreign = [&](ShareKind k) {
      std::vector<uint32_t> out_shares;
      for (uint32_t s = 0; s < shares_.size(); ++s)
        if (shares_[s].kind == k && shares_[s].dept >= 0 && (k == ShareKind::kProject || shares_[s].dept != p.dept) &&
            (!projects || !p.uses(s)))
          out_shares.push_back(s);
      return out_shares;
    };
    auto push = [&](Ticks t, uint32_t s, std::string_view ip) {
      out.push_back({t, inc.person, s, kAnomaly, inc.kind, inc.id, false, ip});
    };
    switch (inc.kind) {
      case kCompromised: {
        // Off hours, from an address the user never had, into other departments.
        Ticks t = start + static_cast<Ticks>((r.chance(0.5) ? 1 : 21) * kTicksPerHour) +
                  static_cast<Ticks>(r.below(kTicksPerHour));
        std::vector<uint32_t> pool = foreign(projects ? ShareKind::kProject : ShareKind::kTeam);
        for (uint32_t s : foreign(ShareKind::kRestricted)) pool.push_back(s);
        for (uint32_t s : foreign(ShareKind::kDepartment)) pool.push_back(s);
        uint64_t n = std::min<uint64_t>(pool.size(), 6 + r.below(10));
        for (uint64_t k = 0; k < n; ++k) {
          uint32_t s = pool[r.below(pool.size())];
          for (uint64_t j = 0, m = 1 + r.below(3); j < m; ++j) {
            t += static_cast<Ticks>(r.below(4 * kTicksPerMinute));
            push(t, s, "10.250.7.13");
          }
        }
        break;
      }
      case kSweep: {
        Ticks t = work_time(r, start);
        std::vector<uint32_t> all;
        for (uint32_t s = 0; s < shares_.size(); ++s)
          if (projects ? !p.uses(s) : shares_[s].dept != p.dept) all.push_back(s);
        uint64_t n = std::min<uint64_t>(all.size(), 30 + r.below(30));
        for (uint64_t k = 0; k < n; ++k) {
          std::swap(all[k], all[k + r.below(all.size() - k)]);
          t += static_cast<Ticks>(r.below(10 * kTicksPerSecond));
          push(t, all[k], p.ip);
        }
        break;
      }
      case kSensitive: {
        auto pool = foreign(ShareKind::kRestricted);
        if (!pool.empty()) push(work_time(r, start), pool[r.below(pool.size())], p.ip);
        break;
      }
      case kAdminShare: {
        auto pool = shares_where(ShareKind::kAdmin, -1);
        Ticks t = work_time(r, start);
        for (uint64_t k = 0, n = 2 + r.below(3); k < n; ++k) {
          t += static_cast<Ticks>(r.below(2 * kTicksPerMinute));
          push(t, pool[r.below(pool.size())], p.ip);
        }
        break;
      }
      default: break;
    }
  }
}

Status Generator::write_slot(Ticks slot, int overflow, const Ev* begin, const Ev* end, FILE* labels) {
  fs::path file = fs::path(out_) / "export" / kWorkspace / export_blob_path(slot, overflow);
  if (file.parent_path() != last_dir_) {  // a folder holds one slot's blobs: create it once
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) return {ErrorCode::kIo, fmt::format("cannot create {}: {}", file.parent_path().string(), ec.message())};
    last_dir_ = file.parent_path();
  }
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(file.c_str(), "wb"), &std::fclose);
  if (!f) return {ErrorCode::kIo, fmt::format("cannot write {}", file.string())};
  buf_.clear();
  Rng r = rng_.fork(static_cast<uint64_t>(slot) ^ static_cast<uint64_t>(overflow));
  for (const Ev* e = begin; e != end; ++e) {
    const Person& p = people_[e->person];
    const Share& s = shares_[e->share];
    const Server& srv = servers_[s.server];
    std::string origin = guid(r);
    std::string time = format_timestamp(e->t, 7);
    std::string logon = fmt::format("0x{:x}", 0x3e7000 + (r.next() & 0xfffff));
    const char* type = p.role == Role::kMachine ? "Machine" : "User";
    int eid = e->detail ? 5145 : 5140;
    std::string share = jesc(s.name), path = jesc(s.path), user = jesc(p.user);
    uint64_t port = 49152 + r.below(16000);
    fmt::format_to(
        std::back_inserter(buf_),
        R"({{"TenantId":"{}","SourceSystem":"OpsManager","TimeGenerated":"{}","Account":"{}\\{}","AccountType":"{}",)"
        R"("Computer":"{}","EventSourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","Task":{},)"
        R"("Level":"0","EventID":{},"Activity":"{} - {}","SubjectUserSid":"{}",)"
        R"("SubjectUserName":"{}","SubjectDomainName":"{}","SubjectLogonId":"{}","IpAddress":"{}","IpPort":"{}",)"
        R"("ObjectType":"File","ShareName":"{}","ShareLocalPath":"{}",{}"AccessMask":"0x{}","AccessList":"%%4416\n\t\t\t\t",)"
        R"("EventOriginId":"{}","MG":"00000000-0000-0000-0000-000000000001","ManagementGroupName":"AOI-{}",)"
        R"("Type":"SecurityEvent","_ResourceId":"{}"}})"
        "\n",
        kTenant, time, kNetbiosDomain, user, type, srv.fqdn, e->detail ? 12811 : 12808, eid, eid,
        e->detail ? "A network share object was checked to see whether client can be granted desired access."
                  : "A network share object was accessed.",
        p.sid, user, kNetbiosDomain, logon, e->ip, port, share, path,
        e->detail ? R"("RelativeTargetName":"Reports\\Q3.xlsx",)" : "", e->detail ? "120089" : "1", origin,
        kTenant, srv.resource_id);
    ++sum_.rows;
    if (!e->detail) ++sum_.rows_5140;
    if (labels != nullptr && !e->detail) {
      const char* label = e->label == kAnomaly ? "anomaly" : e->label == kNovelty ? "novelty" : "normal";
      fmt::print(labels, "{},{},{}\\{},{},{},{},{},{}\n", origin, time, kNetbiosDomain, p.user, srv.fqdn, s.name, label,
                 kKinds[e->kind], e->incident ? fmt::format("I{}", e->incident) : "");
      if (e->label != kNormal) ++sum_.labelled_events[fmt::format("{}/{}", label, kKinds[e->kind])];
    }
  }
  // Blobs are written in place (generated data can be generated again), but every error counts.
  bool written = std::fwrite(buf_.data(), 1, buf_.size(), f.get()) == buf_.size();
  if (std::fclose(f.release()) != 0 || !written) return {ErrorCode::kIo, fmt::format("write failed: {}", file.string())};
  sum_.bytes += buf_.size();
  ++sum_.blobs;
  return {};
}

Status Generator::write_day(int day, std::vector<Ev>& evs, FILE* labels) {
  std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.t < b.t; });
  const Ticks slot_len = 5 * kTicksPerMinute;
  bool test = day >= spec_.train_days;
  size_t i = 0;
  while (i < evs.size()) {
    Ticks slot = evs[i].t - (evs[i].t % slot_len);
    size_t j = i;
    while (j < evs.size() && evs[j].t < slot + slot_len) ++j;
    for (size_t k = i, overflow = 0; k < j; k += spec_.max_blob_events, ++overflow) {
      size_t e = std::min(j, k + spec_.max_blob_events);
      BYOML_RETURN_IF_ERROR(write_slot(slot, static_cast<int>(overflow), evs.data() + k, evs.data() + e,
                                       test ? labels : nullptr));
    }
    i = j;
  }
  return {};
}

// Sentinel's IdentityInfo as exported: a snapshot row per person when they appear (the window's
// start, or the hire day) and another on each transfer, with the new Department. AccountDomain
// is the DNS domain, as UEBA writes it; service and machine accounts have no HR record.
Status Generator::write_identity(const std::string& path) const {
  auto f = AtomicFile::create(path);
  if (!f) return f.status();
  for (const Person& p : people_) {
    if (p.role == Role::kService || p.role == Role::kMachine) continue;
    const char* title = p.contractor              ? "Contractor"
                        : p.role == Role::kManager  ? "Manager"
                        : p.role == Role::kAdmin    ? "Systems Administrator"
                                                    : "Specialist";
    auto row = [&](int day, int dept) {
      fmt::print(f->stream(),
                 R"({{"TenantId":"{}","TimeGenerated":"{}","AccountName":"{}","AccountDomain":"contoso.local",)"
                 R"("AccountUPN":"{}@contoso.com","AccountSID":"{}","Department":"{}","JobTitle":"{}",)"
                 R"("IsAccountEnabled":true,"Type":"IdentityInfo"}})"
                 "\n",
                 kTenant, format_timestamp(spec_.start + day * kTicksPerDay + 2 * kTicksPerHour, 7), p.user, p.user, p.sid,
                 dept_names_[static_cast<size_t>(dept)], title);
    };
    row(p.from_day, p.first_dept);
    for (auto [day, dept] : p.moves) row(day, dept);
  }
  return f->commit();
}

Result<EnterpriseSampleSummary> Generator::run(const ProgressFn& progress) {
  if (spec_.train_days < 1 || spec_.test_days < 1) return Status(ErrorCode::kInvalidArgument, "train and test windows need at least one day each");
  if (spec_.events < 100) return Status(ErrorCode::kInvalidArgument, "--events: at least 100");
  if (spec_.max_blob_events < 1) return Status(ErrorCode::kInvalidArgument, "--max-blob-events: at least 1");
  build_org();
  std::error_code ec;
  fs::create_directories(out_, ec);
  if (ec) return Status(ErrorCode::kIo, fmt::format("cannot create {}: {}", out_, ec.message()));
  sum_.export_dir = (fs::path(out_) / "export").string();
  sum_.labels_path = (fs::path(out_) / "labels.csv").string();
  sum_.manifest_path = (fs::path(out_) / "manifest.json").string();
  sum_.identity_path = (fs::path(out_) / "identityinfo.jsonl").string();
  if (fs::exists(sum_.export_dir)) fs::remove_all(sum_.export_dir, ec);
  auto labels = AtomicFile::create(sum_.labels_path);
  if (!labels) return labels.status();
  labels->write("EventOriginId,TimeGenerated,Account,Computer,ShareName,Label,Kind,Incident\n");

  const int days = spec_.train_days + spec_.test_days;
  std::vector<Ev> evs;
  for (int d = 0; d < days; ++d) {
    evs.clear();
    day_events(d, evs);
    inject_anomalies(d, evs);
    BYOML_RETURN_IF_ERROR(write_day(d, evs, labels->stream()));
    if (progress) progress(d + 1, days);
  }
  for (const auto& inc : incidents_) ++sum_.incidents[fmt::format("anomaly/{}", kKinds[inc.kind])];
  sum_.contractors = static_cast<uint32_t>(std::count_if(people_.begin(), people_.end(), [](const Person& p) { return p.contractor; }));
  sum_.train_from = spec_.start;
  sum_.train_to = sum_.test_from = spec_.start + spec_.train_days * kTicksPerDay;
  sum_.test_to = spec_.start + days * kTicksPerDay;

  nlohmann::json m = {
      {"generator", "byoml sample"},
      {"seed", spec_.seed},
      {"structure", spec_.structure == CompanyStructure::kProjects ? "projects" : "departments"},
      {"requested_events", spec_.events},
      {"rows", sum_.rows},
      {"rows_5140", sum_.rows_5140},
      {"blobs", sum_.blobs},
      {"bytes", sum_.bytes},
      {"train_window", {{"from", format_timestamp(sum_.train_from, 0)}, {"to", format_timestamp(sum_.train_to, 0)}}},
      {"test_window", {{"from", format_timestamp(sum_.test_from, 0)}, {"to", format_timestamp(sum_.test_to, 0)}}},
      {"people", sum_.people},
      {"contractors", sum_.contractors},
      {"service_accounts", sum_.service_accounts},
      {"machine_accounts", sum_.machine_accounts},
      {"departments", sum_.departments},
      {"servers", sum_.servers},
      {"shares", sum_.shares},
      {"labelled_events", sum_.labelled_events},
      {"incidents", sum_.incidents},
      {"tenant_id", kTenant}};
  BYOML_RETURN_IF_ERROR(labels->commit());
  BYOML_RETURN_IF_ERROR(write_identity(sum_.identity_path));
  BYOML_RETURN_IF_ERROR(write_file_atomic(sum_.manifest_path, m.dump(2) + "\n"));
  return sum_;
}

}  // namespace

const ParamTable<EnterpriseSampleSpec>& enterprise_sample_params() {
  using S = EnterpriseSampleSpec;
  static const ParamTable<S> table = ParamTable<S>()
      .add("seed", &S::seed, "Random seed: the same seed gives the same files, byte for byte.", 0, 9e15)
      .add("events", &S::events, "Approximate number of rows to write (about 1 KB each).", 100, 2e9)
      .add("users", &S::users, "People in the company; 0 derives it from --events (about 650 rows each).", 0, 5e6)
      .with_unit(ParamType::kTime, "start", &S::start, "First day of the training window (UTC date).")
      .add("train_days", &S::train_days, "Days of normal activity to train on.", 1, 3650)
      .add("test_days", &S::test_days, "Days after training with novelty and labelled anomalies.", 1, 365)
      .add("detail_ratio", &S::detail_ratio, "Fraction of rows that are EventID 5145 (not modelled).", 0, 0.9)
      .add("max_blob_events", &S::max_blob_events,
           "Rows per 5-minute blob before spilling into PT05M_1.json, PT05M_2.json, ...", 1, 1e9);
  return table;
}

std::vector<ParamSpec> enterprise_sample_param_specs() { return enterprise_sample_params().specs(); }

EnterpriseSampleSpec enterprise_sample_spec_from(const ParamSet& p) {
  EnterpriseSampleSpec s = enterprise_sample_params().bind(p);
  s.start = day_floor(s.start);
  return s;
}

Result<EnterpriseSampleSummary> write_enterprise_sample(const EnterpriseSampleSpec& spec, const std::string& out_dir,
                                                        const ProgressFn& progress) {
  Generator g(spec, out_dir);
  try {
    return g.run(progress);
  } catch (const std::system_error& e) {  // fmt::print to the labels file on a full disk
    return Status(ErrorCode::kIo, fmt::format("{}: write failed: {}", out_dir, e.what()));
  }
}

}  // namespace byoml
