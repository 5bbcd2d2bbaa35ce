// Decodes the objects of a read on several threads. Each worker takes the next object, decodes
// it into a context of its own (a copy of the mapping, its own vocabulary, held rejects) and
// hands over rows, new strings, rejects and counts in pieces; the calling thread joins the
// pieces into the read's context object by object, in input order (events/vocabulary_map.h).
// The consumer therefore sees what a one-thread read gives: the same batches, ids, rejects and
// positions, for any number of threads. Pieces waiting to be joined are bounded per worker, so
// memory stays flat however far one object runs ahead of another.
#pragma once

#include <functional>

#include "byoml/sources/input_set.h"
#include "byoml/sources/read_ahead.h"

namespace byoml {

// Decodes files[i] into `ctx`: begins the object, decodes it and ends it (its position).
Status decode_object(const InputFile& file, ReadAhead& ahead, size_t i, ReadContext& ctx);

// Calls `done(i, status)` on the calling thread once files[i] has joined `ctx`, in order; a false
// return stops the read there. Workers never touch `ctx`.
void decode_in_parallel(const std::vector<InputFile>& files, ReadAhead& ahead, ReadContext& ctx, unsigned threads,
                        const std::function<bool(size_t, const Status&)>& done);

}  // namespace byoml
