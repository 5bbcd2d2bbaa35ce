// Implicit-feedback alternating least squares (Hu, Koren & Volinsky 2008) with ALS-WR
// regularisation, as Spark's ALS(implicitPrefs=true) and so the reference compute it:
//   (YᵀY + Σ_{i∈N(u)} α r_ui y_i y_iᵀ + λ |N(u)| I) x_u = Σ_{i∈N(u)} (1 + α r_ui) y_i
// Pure computation: no I/O, no names. Every row's solve reads only the fixed side and a Gram
// matrix summed in fixed chunks, so results are bit-identical for any thread count.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace byoml {

using FactorMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class AlsSolver {
  kCholesky,           // exact normal equations (active-set NNLS when non-negative)
  kConjugateGradient,  // matrix-free, warm-started from the previous iterate, a few steps
};

struct AlsOptions {
  int rank = 10;
  int iterations = 25;
  double reg = 1.0;    // λ, multiplied per row by its number of observed entries
  double alpha = 1.0;  // confidence c = 1 + α r
  bool nonnegative = true;
  AlsSolver solver = AlsSolver::kCholesky;
  int cg_steps = 3;
  unsigned threads = 1;
};

// Observed entries in compressed rows.
struct Ratings {
  uint32_t rows = 0, cols = 0;
  std::vector<uint64_t> offsets{0};  // rows + 1
  std::vector<uint32_t> index;
  std::vector<float> value;

  struct Entry {
    uint32_t row, col;
    float value;
  };
  // Entries in any order; duplicates of a (row, col) are a caller bug.
  static Ratings from_entries(uint32_t rows, uint32_t cols, std::vector<Entry> entries);
  Ratings transposed() const;
  size_t nnz() const { return index.size(); }
  std::span<const uint32_t> row_index(uint32_t r) const {
    return {index.data() + offsets[r], static_cast<size_t>(offsets[r + 1] - offsets[r])};
  }
  std::span<const float> row_value(uint32_t r) const {
    return {value.data() + offsets[r], static_cast<size_t>(offsets[r + 1] - offsets[r])};
  }
};

// Random start: each row from its own seed (so a row's start does not depend on which other
// rows exist), unit length, absolute values when non-negative.
void init_factors(FactorMatrix& f, std::span<const uint64_t> row_seeds, int rank, bool nonnegative);

// FᵀF in double, summed over fixed 4096-row chunks in order.
Eigen::MatrixXd gram_matrix(const FactorMatrix& f, unsigned threads);

// Solves every row of `out` (m.rows × rank) against `fixed` (m.cols × rank); rows with no
// entries become zero. `out` holds the warm start for the conjugate-gradient solver.
void solve_rows(const Ratings& m, const FactorMatrix& fixed, FactorMatrix& out, const AlsOptions& o);

// One row against fixed factors (fold-in of a user or resource the model has not seen).
Eigen::VectorXf solve_one(const FactorMatrix& fixed, const Eigen::MatrixXd& gram, std::span<const uint32_t> index,
                          std::span<const float> value, const AlsOptions& o);

// Items from users, then users from items, `iterations` times. `users` must be initialised.
void train_als(const Ratings& m, FactorMatrix& users, FactorMatrix& items, const AlsOptions& o,
               const std::function<void(int iteration, double seconds)>& progress = {});

// Minimises ½xᵀAx − bᵀx subject to x ≥ 0 (Lawson–Hanson active set on the normal equations).
Eigen::VectorXd nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);

}  // namespace byoml
