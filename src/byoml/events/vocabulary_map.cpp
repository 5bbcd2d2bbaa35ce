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

void VocabularyMap::translate(EventBatch& rows) const {
  if (rows.empty()) return;  // an object's last piece may carry only its counts
  BYOML_CHECK(rows.extra.size() == string_extras_.size());
  auto map = [](std::vector<uint32_t>& column, const std::vector<uint32_t>& ids) {
    for (uint32_t& id : column) id = ids[id];
  };
  map(rows.tenant, ids_[0]);
  map(rows.user, ids_[1]);
  map(rows.machine, ids_[2]);
  map(rows.resource, ids_[3]);
  map(rows.source_ip, ids_[4]);
  for (size_t c = 0; c < rows.extra.size(); ++c)
    if (string_extras_[c])
      for (uint64_t& v : rows.extra[c]) v = ids_[5][v];
}

}  // namespace byoml
