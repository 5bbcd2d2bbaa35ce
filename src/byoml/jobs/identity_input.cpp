#include "byoml/jobs/identity_input.h"

namespace byoml {
namespace {

// The IdentityInfo columns byoml uses, as a mapping: the account is the event's user, and the
// department an extra string column.
MappingSpec identity_mapping() {
  MappingSpec m;
  m.time = {{"TimeGenerated"}, false, ""};
  m.user = {{"{AccountDomain}\\{AccountName}", "AccountUPN"}, true, ""};
  m.extras = {{"Department", {{"Department"}, false, ""}, ExtraType::kString}};
  m.required = {"user"};
  return m;
}

// "contoso.local\alice" -> "contoso\alice": SecurityEvent names accounts by NetBIOS domain.
std::string account_key(std::string_view user) {
  size_t slash = user.find('\\');
  if (slash == std::string_view::npos) return std::string(user);
  std::string_view domain = user.substr(0, slash);
  return std::string(domain.substr(0, domain.find('.'))) + std::string(user.substr(slash));
}

}  // namespace

Result<IdentityRead> read_identity(const std::vector<std::string>& paths, ReadOptions read, RejectLog& rejects) {
  auto mapping = FieldMapping::compile(identity_mapping());
  if (!mapping) return mapping.status();
  read.filter = {};  // every snapshot, whenever it was taken
  read.resume.reset();
  auto plan = plan_inputs(paths, read, {{}, {}, mapping->keys()});
  if (!plan) return plan.status();
  IdentityRead out;
  Vocabulary vocab;
  ReadContext ctx(*mapping, vocab, read, rejects, [&](const EventBatch& b) {
    for (size_t i = 0; i < b.size(); ++i) {
      std::string_view department = vocab.values.str(static_cast<uint32_t>(b.extra[0][i]));
      if (department.empty()) {
        ++out.without_department;
        continue;
      }
      out.timeline.add(account_key(vocab.users.str(b.user[i])), b.time[i], std::string(department));
    }
  });
  BYOML_RETURN_IF_ERROR(read_inputs(*plan, ctx));
  out.read = ctx.stats();
  return out;
}

}  // namespace byoml
