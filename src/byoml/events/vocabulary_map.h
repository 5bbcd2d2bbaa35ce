// Reading on several threads, each worker interns into a vocabulary of its own. What a worker
// produced joins the read in input order: the strings its vocabulary gained are interned into
// the read's vocabulary in the order the worker met them, and its rows are appended with their
// ids translated. Ids therefore follow first appearance in the input, as a one-thread read gives
// them, whatever the number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "byoml/events/event_batch.h"

namespace byoml {

inline constexpr StringPool Vocabulary::*kVocabularyPools[] = {&Vocabulary::tenants,   &Vocabulary::users,
                                                              &Vocabulary::machines,  &Vocabulary::resources,
                                                              &Vocabulary::addresses, &Vocabulary::values};
inline constexpr size_t kVocabularyPoolCount = std::size(kVocabularyPools);

// The strings a worker's vocabulary gained since the last handover, per pool in id order, with
// their hashes. The views point into the worker's pools, which outlive the handover.
struct NewStrings {
  std::array<std::vector<std::pair<std::string_view, uint64_t>>, kVocabularyPoolCount> pools;
};

// The worker's side: what is new since the last call.
class NewStringTracker {
 public:
  NewStrings take(const Vocabulary& local);

 private:
  std::array<uint32_t, kVocabularyPoolCount> sent_{};
};

// The read's side: local id -> the read's id, per pool.
class VocabularyMap {
 public:
  // `string_extras[i]`: extra column i holds ids in Vocabulary::values (else numbers, kept as they are).
  explicit VocabularyMap(std::vector<bool> string_extras) : string_extras_(std::move(string_extras)) {}
  // Interns the new strings into `shared`, in order; call with every handover, in order.
  void add(const NewStrings& fresh, Vocabulary& shared);
  // Turns the local ids of `rows` into the read's ids, column by column.
  void translate(EventBatch& rows) const;

 private:
  std::array<std::vector<uint32_t>, kVocabularyPoolCount> ids_;
  std::vector<bool> string_extras_;
};

}  // namespace byoml
