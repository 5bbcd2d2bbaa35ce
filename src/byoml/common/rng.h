// A small deterministic random source. Standard-library distributions differ between
// library versions, so generated data would too; these formulas are fixed.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace byoml {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }  // bias negligible for small n
  double real() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return real() < p; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * real(); }
  double normal() {  // Box-Muller
    double u = real(), v = real();
    return std::sqrt(-2.0 * std::log(u + 1e-300)) * std::cos(6.283185307179586 * v);
  }
  uint64_t poisson(double lambda) {
    if (lambda <= 0) return 0;
    if (lambda > 30) {
      double x = std::round(lambda + std::sqrt(lambda) * normal());
      return x < 0 ? 0 : static_cast<uint64_t>(x);
    }
    double l = std::exp(-lambda), p = 1.0;
    uint64_t k = 0;
    do {
      ++k;
      p *= real();
    } while (p > l);
    return k - 1;
  }
  // Index drawn with probability proportional to weights (cumulative, increasing).
  size_t pick(const std::vector<double>& cumulative) {
    double x = real() * cumulative.back();
    size_t lo = 0, hi = cumulative.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  // An independent stream for a sub-task, so adding draws in one place does not shift another.
  Rng fork(uint64_t salt) { return Rng(next() ^ (salt * 0xD1B54A32D192ED03ull)); }

 private:
  uint64_t s_;
};

}  // namespace byoml
