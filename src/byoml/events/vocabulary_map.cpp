#include "byoml/events/vocabulary_map.h"

#include "byoml/common/status.h"

namespace byoml {

NewStrings NewStringTracker::take(const Vocabulary& local) {
  NewStrings out;
  for (size_t p = 0; p < kVocabularyPoolCount; ++p) {
    const StringPool& pool = local.*kVocabularyPools[p];
    auto& fresh = out.pools[p];
    fresh.reserve(pool.size() - sent_[p]);
    for (uint32_t id = sent_[p]; id < pool.size(); ++id) fresh.emplace_back(pool.str(id), pool.hash(id));
    sent_[p] = pool.size();
  }
  return out;
}

void VocabularyMap::add(const NewStrings& fresh, Vocabulary& shared) {
  for (size_t p = 0; p < kVocabularyPoolCount; ++p) {
    StringPool& pool = shared.*kVocabularyPools[p];
    for (const auto& [text, hash] : fresh.pools[p]) ids_[p].push_back(pool.intern(text, hash));
  }
}

void VocabularyMap::append_row(const EventBatch& from, size_t r, EventBatch& to) const {
  BYOML_CHECK(from.extra.size() == string_extras_.size() && to.extra.size() == from.extra.size());
  to.time.push_back(from.time[r]);
  to.tenant.push_back(ids_[0][from.tenant[r]]);
  to.user.push_back(ids_[1][from.user[r]]);
  to.account_type.push_back(from.account_type[r]);
  to.machine.push_back(ids_[2][from.machine[r]]);
  to.resource.push_back(ids_[3][from.resource[r]]);
  to.source_ip.push_back(ids_[4][from.source_ip[r]]);
  to.event_id.push_back(from.event_id[r]);
  to.record_id.push_back(from.record_id[r]);
  for (size_t c = 0; c < from.extra.size(); ++c) {
    uint64_t v = from.extra[c][r];
    to.extra[c].push_back(string_extras_[c] ? ids_[5][v] : v);
  }
}

}  // namespace byoml
