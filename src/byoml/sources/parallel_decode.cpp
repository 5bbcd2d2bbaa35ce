#include "byoml/sources/parallel_decode.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "byoml/events/vocabulary_map.h"

namespace byoml {
namespace {

// What a worker hands over: rows in its own ids with the strings they introduced, rejects,
// and, with the object's last piece, its counts and how decoding it ended.
struct Piece {
  EventBatch rows;
  NewStrings strings;
  std::vector<Reject> rejects;
  size_t cost = 0;  // bytes, roughly: what counts against the worker's bound
  bool last = false;
  ReadStats stats;
  Status status;
};

size_t cost_of(const Piece& p) {
  size_t bytes = p.rows.size() * (sizeof(Ticks) + sizeof(RecordId) + 6 * sizeof(uint32_t) + 8 * p.rows.extra.size());
  for (const auto& r : p.rejects) bytes += sizeof(Reject) + r.raw.size() + r.message.size();
  return bytes;
}

class Pool {
 public:
  Pool(const std::vector<InputFile>& files, ReadAhead& ahead, ReadContext& ctx, unsigned threads)
      : files_(files), ahead_(ahead), ctx_(ctx), pieces_(files.size()), pending_(threads), blocked_(threads),
        bound_(std::max<size_t>(32u << 20, 2 * ctx.options().batch_events * 64)) {
    for (unsigned w = 0; w < threads; ++w) vocabularies_.push_back(std::make_unique<Vocabulary>());
    for (unsigned w = 0; w < threads; ++w) workers_.emplace_back([this, w] { work(w); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    room_.notify_all();
    for (auto& t : workers_) t.join();
  }

  // The next piece of files[i], waiting for it.
  Piece next(size_t i, size_t& worker) {
    std::unique_lock<std::mutex> lock(mu_);
    if (pieces_[i].empty()) {
      waiting_ = true;
      joined_.wait(lock, [&] { return !pieces_[i].empty(); });
      waiting_ = false;
    }
    auto [piece, w] = std::move(pieces_[i].front());
    pieces_[i].pop_front();
    pending_[w] -= piece.cost;
    worker = w;
    if (blocked_[w]) room_.notify_all();
    return std::move(piece);
  }

 private:
  // Workers take runs of consecutive objects, and wake the joining thread once per run (or per
  // full batch of a large object): a wake-up per small object would cost more than joining it.
  static constexpr uint64_t kRunBytes = 4u << 20;
  static constexpr size_t kRunObjects = 64;

  void work(unsigned w) {
    FieldMapping mapping = ctx_.mapping();
    // Outlives the worker: the joining thread reads the strings of its last pieces after it ended.
    Vocabulary& vocab = *vocabularies_[w];
    RejectLog unused;
    NewStringTracker tracker;
    size_t current = 0;
    ReadContext local(mapping, vocab, ctx_.options(), unused, [&](const EventBatch& rows) {
      Piece p;
      p.rows = rows;
      publish(w, current, std::move(p), vocab, tracker, local, true);
    });
    local.hold_rejects();
    for (;;) {
      size_t begin, end;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_ || next_ >= files_.size()) return;
        begin = end = next_;
        for (uint64_t bytes = 0; end < files_.size() && (end == begin || (bytes < kRunBytes && end - begin < kRunObjects));
             ++end)
          bytes += files_[end].object.size - std::min(files_[end].object.start, files_[end].object.size);
        next_ = end;
      }
      for (current = begin; current < end; ++current) {
        Piece last;
        last.status = decode_object(files_[current], ahead_, current, local);
        local.flush();
        last.last = true;
        last.stats = std::exchange(local.stats(), ReadStats{});
        if (!publish(w, current, std::move(last), vocab, tracker, local, current + 1 == end)) return;
      }
    }
  }

  // Queues a piece of files[i], waiting while this worker is too far ahead of the joining
  // thread; `wake`: the joining thread may be waiting for it. False when the read is over.
  bool publish(unsigned w, size_t i, Piece p, const Vocabulary& vocab, NewStringTracker& tracker, ReadContext& local,
               bool wake) {
    p.strings = tracker.take(vocab);
    p.rejects = local.take_rejects();
    p.cost = cost_of(p);
    std::unique_lock<std::mutex> lock(mu_);
    // A worker's pieces are of objects at or before the one it decodes, so the joining thread
    // always comes to them: waiting here cannot block it, once it has been woken.
    if (pending_[w] > 0 && pending_[w] + p.cost > bound_) {
      if (waiting_) joined_.notify_one();
      blocked_[w] = true;
      room_.wait(lock, [&] { return stop_ || pending_[w] == 0 || pending_[w] + p.cost <= bound_; });
      blocked_[w] = false;
    }
    if (stop_) return false;
    pending_[w] += p.cost;
    pieces_[i].emplace_back(std::move(p), w);
    if (wake && waiting_) joined_.notify_one();
    return true;
  }

  const std::vector<InputFile>& files_;
  ReadAhead& ahead_;
  ReadContext& ctx_;
  std::mutex mu_;
  std::condition_variable joined_;  // the joining thread waits for a piece
  std::condition_variable room_;    // workers wait for their queue to shrink
  std::vector<std::deque<std::pair<Piece, unsigned>>> pieces_;
  std::vector<size_t> pending_;  // bytes queued per worker
  std::vector<bool> blocked_;    // per worker: waiting for room
  std::vector<std::unique_ptr<Vocabulary>> vocabularies_;
  const size_t bound_;
  size_t next_ = 0;
  bool waiting_ = false;
  bool stop_ = false;
  std::vector<std::thread> workers_;  // last: joined before the rest goes
};

}  // namespace

Status decode_object(const InputFile& f, ReadAhead& ahead, size_t i, ReadContext& ctx) {
  ctx.begin_object(f.object);
  auto object = ahead.take(i);
  Status st = object ? f.decoder->decode(*object, ctx) : object.status();
  ++ctx.stats().files_by_format[f.decoder->name];
  ctx.end_object(f.object, st.is_ok());
  return st;
}

void decode_in_parallel(const std::vector<InputFile>& files, ReadAhead& ahead, ReadContext& ctx, unsigned threads,
                        const std::function<bool(size_t, const Status&)>& done) {
  Pool pool(files, ahead, ctx, threads);
  std::vector<VocabularyMap> maps(threads, VocabularyMap(ctx.mapping().string_extras()));
  for (size_t i = 0; i < files.size(); ++i) {
    for (;;) {
      size_t w = 0;
      Piece p = pool.next(i, w);
      maps[w].add(p.strings, ctx.vocabulary());
      maps[w].translate(p.rows);
      ctx.append_rows(p.rows);
      for (auto& r : p.rejects) ctx.rejects().add(std::move(r));
      if (!p.last) continue;
      ctx.stats().absorb(std::move(p.stats));
      if (!done(i, p.status)) return;
      break;
    }
  }
}

}  // namespace byoml
