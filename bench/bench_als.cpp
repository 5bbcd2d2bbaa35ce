// Seconds per implicit-ALS iteration on a synthetic matrix (default: rank 64, 10 million
// non-zeros, 1 million users, 100,000 items with skewed popularity), conjugate gradient
// against Cholesky, achieved GFLOP/s, and 1 against all threads. Prints figures; asserts nothing.
//   bench_als [--nnz N] [--rank K] [--users U] [--items I] [--iterations T] [--cg-steps S]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_util.h"
#include "byoml/common/parallel.h"
#include "byoml/common/rng.h"
#include "byoml/models/implicit_als.h"

using namespace byoml;
using bench::Clock;

namespace {

Ratings synthetic(uint64_t nnz, uint32_t users, uint32_t items) {
  Rng rng(11);
  std::vector<Ratings::Entry> e;
  e.reserve(nnz + users);
  const double per_user = static_cast<double>(nnz) / users;
  std::vector<uint32_t> row;
  for (uint32_t u = 0; u < users && e.size() < nnz; ++u) {
    auto n = std::max<uint64_t>(1, rng.poisson(per_user));
    row.clear();
    for (uint64_t j = 0; j < n; ++j) {
      double x = rng.real();  // popularity ∝ rank^-0.8, roughly
      row.push_back(std::min(items - 1, static_cast<uint32_t>(std::pow(x, 2.5) * items)));
    }
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    for (uint32_t i : row) e.push_back({u, i, static_cast<float>(rng.uniform(5, 10))});
  }
  return Ratings::from_entries(users, items, std::move(e));
}

// Floating-point operations of one iteration (both half-steps), multiply-add = 2.
double iteration_flops(const Ratings& m, const AlsOptions& o) {
  const double k = o.rank, nnz = static_cast<double>(m.nnz()), rows = m.rows + m.cols;
  double gram = rows * k * (k + 1);
  if (o.solver == AlsSolver::kCholesky)
    return 2 * (nnz * k * (k + 1) + 3 * nnz * k) + rows * (k * k * k / 3 + 3 * k * k) + gram;
  double products = o.cg_steps + 1;  // the residual, then one per step
  return products * (2 * nnz * 4 * k + rows * 2 * k * k) + gram;
}

void run(const Ratings& m, AlsOptions o, int iterations, const char* name) {
  std::vector<uint64_t> seeds(m.rows);
  for (uint32_t i = 0; i < m.rows; ++i) seeds[i] = i;
  FactorMatrix users, items;
  init_factors(users, seeds, o.rank, o.nonnegative);
  o.iterations = iterations;
  double total = 0;
  train_als(m, users, items, o, [&](int, double s) { total += s; });
  double per = total / iterations;
  std::printf("%-34s threads %u  %7.3f s/iteration  %6.1f GFLOP/s\n", name, o.threads, per,
              iteration_flops(m, o) / per / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t nnz = 10'000'000;
  int rank = 64, iterations = 3, cg_steps = 3;
  uint32_t users = 1'000'000, items = 100'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--nnz") nnz = std::stoull(argv[i + 1]);
    else if (a == "--rank") rank = std::stoi(argv[i + 1]);
    else if (a == "--users") users = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (a == "--items") items = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (a == "--iterations") iterations = std::stoi(argv[i + 1]);
    else if (a == "--cg-steps") cg_steps = std::stoi(argv[i + 1]);
  }
  auto t0 = Clock::now();
  Ratings m = synthetic(nnz, users, items);
  std::printf("matrix: %u users x %u items, %zu non-zeros, rank %d (built in %.1f s)\n", m.rows, m.cols, m.nnz(), rank,
              bench::seconds_since(t0));
  AlsOptions o;
  o.rank = rank;
  o.nonnegative = false;
  o.cg_steps = cg_steps;
  const unsigned all = resolve_threads(0);
  o.solver = AlsSolver::kConjugateGradient;
  o.threads = all;
  run(m, o, iterations, "conjugate gradient");
  o.threads = 1;
  run(m, o, iterations, "conjugate gradient");
  o.solver = AlsSolver::kCholesky;
  o.threads = all;
  run(m, o, iterations, "cholesky (exact)");
  o.nonnegative = true;
  o.solver = AlsSolver::kConjugateGradient;
  run(m, o, iterations, "conjugate gradient, non-negative");
  std::printf("peak RSS %.0f MiB\n", bench::peak_rss_mib());
  return 0;
}
