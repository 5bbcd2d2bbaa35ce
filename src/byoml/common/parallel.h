// Static partitioning of index ranges over threads. Work is split into fixed chunks whose
// boundaries do not depend on the thread count, so any per-chunk reduction summed in chunk
// order gives the same bits with 1 thread or 16.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace byoml {

// 0 means "all cores".
inline unsigned resolve_threads(int requested) {
  if (requested > 0) return static_cast<unsigned>(requested);
  return std::max(1u, std::thread::hardware_concurrency());
}

// Calls fn(chunk_index, begin, end) for every chunk of `chunk` items in [0, n); chunks are
// handed out round-robin to `threads` threads.
template <typename Fn>
void parallel_chunks(size_t n, size_t chunk, unsigned threads, Fn&& fn) {
  size_t chunks = (n + chunk - 1) / chunk;
  auto run = [&](unsigned t) {
    for (size_t c = t; c < chunks; c += threads) fn(c, c * chunk, std::min(n, (c + 1) * chunk));
  };
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(chunks, 1)));
  if (threads <= 1) {
    run(0);
    return;
  }
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();
}

}  // namespace byoml
