#include "byoml/models/implicit_als.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "byoml/common/parallel.h"
#include "byoml/common/rng.h"
#include "byoml/common/status.h"

namespace byoml {

Ratings Ratings::from_entries(uint32_t rows, uint32_t cols, std::vector<Entry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.row != b.row ? a.row < b.row : a.col < b.col; });
  Ratings m;
  m.rows = rows;
  m.cols = cols;
  m.offsets.assign(rows + 1, 0);
  m.index.reserve(entries.size());
  m.value.reserve(entries.size());
  for (const auto& e : entries) {
    BYOML_CHECK(e.row < rows && e.col < cols);
    ++m.offsets[e.row + 1];
    m.index.push_back(e.col);
    m.value.push_back(e.value);
  }
  for (uint32_t r = 0; r < rows; ++r) m.offsets[r + 1] += m.offsets[r];
  return m;
}

Ratings Ratings::transposed() const {
  Ratings t;
  t.rows = cols;
  t.cols = rows;
  t.offsets.assign(cols + 1, 0);
  for (uint32_t c : index) ++t.offsets[c + 1];
  for (uint32_t c = 0; c < cols; ++c) t.offsets[c + 1] += t.offsets[c];
  t.index.resize(index.size());
  t.value.resize(value.size());
  std::vector<uint64_t> next(t.offsets.begin(), t.offsets.end() - 1);
  for (uint32_t r = 0; r < rows; ++r)
    for (uint64_t j = offsets[r]; j < offsets[r + 1]; ++j) {
      uint64_t dst = next[index[j]]++;
      t.index[dst] = r;  // rows are visited in order, so each transposed row stays sorted
      t.value[dst] = value[j];
    }
  return t;
}

void init_factors(FactorMatrix& f, std::span<const uint64_t> row_seeds, int rank, bool nonnegative) {
  f.resize(static_cast<Eigen::Index>(row_seeds.size()), rank);
  for (size_t r = 0; r < row_seeds.size(); ++r) {
    Rng rng(row_seeds[r]);
    double norm = 0;
    for (int k = 0; k < rank; ++k) {
      double v = rng.normal();
      if (nonnegative) v = std::abs(v);
      f(static_cast<Eigen::Index>(r), k) = static_cast<float>(v);
      norm += v * v;
    }
    if (norm > 0) f.row(static_cast<Eigen::Index>(r)) /= static_cast<float>(std::sqrt(norm));
  }
}

Eigen::MatrixXd gram_matrix(const FactorMatrix& f, unsigned threads) {
  constexpr size_t kChunk = 4096;
  const auto rows = static_cast<size_t>(f.rows());
  const Eigen::Index k = f.cols();
  std::vector<Eigen::MatrixXd> parts((rows + kChunk - 1) / kChunk);
  parallel_chunks(rows, kChunk, threads, [&](size_t c, size_t begin, size_t end) {
    auto block = f.middleRows(static_cast<Eigen::Index>(begin), static_cast<Eigen::Index>(end - begin));
    Eigen::MatrixXf g = Eigen::MatrixXf::Zero(k, k);
    g.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
    parts[c] = g.cast<double>();
  });
  Eigen::MatrixXd total = Eigen::MatrixXd::Zero(k, k);
  for (const auto& p : parts) total += p;
  total.triangularView<Eigen::StrictlyUpper>() = total.transpose();
  return total;
}

Eigen::VectorXd nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b) {
  const Eigen::Index n = b.size();
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<size_t>(n), false);
  const double tol = 1e-10 * std::max(1.0, b.cwiseAbs().maxCoeff());
  for (int outer = 0; outer < 3 * n + 10; ++outer) {
    Eigen::VectorXd w = b - a * x;  // negative gradient
    Eigen::Index best = -1;
    for (Eigen::Index j = 0; j < n; ++j)
      if (!passive[static_cast<size_t>(j)] && w[j] > tol && (best < 0 || w[j] > w[best])) best = j;
    if (best < 0) break;
    passive[static_cast<size_t>(best)] = true;
    for (int inner = 0; inner < 3 * n + 10; ++inner) {
      std::vector<Eigen::Index> p;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<size_t>(j)]) p.push_back(j);
      const auto m = static_cast<Eigen::Index>(p.size());
      Eigen::MatrixXd ap(m, m);
      Eigen::VectorXd bp(m);
      for (Eigen::Index i = 0; i < m; ++i) {
        bp[i] = b[p[static_cast<size_t>(i)]];
        for (Eigen::Index j = 0; j < m; ++j) ap(i, j) = a(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
      }
      Eigen::VectorXd sp = ap.ldlt().solve(bp);
      bool feasible = true;
      for (Eigen::Index i = 0; i < m; ++i) feasible = feasible && sp[i] > 0;
      if (feasible) {
        x.setZero();
        for (Eigen::Index i = 0; i < m; ++i) x[p[static_cast<size_t>(i)]] = sp[i];
        break;
      }
      // Move towards the unconstrained solution until the first variable reaches zero.
      double step = 1.0;
      for (Eigen::Index i = 0; i < m; ++i) {
        double xi = x[p[static_cast<size_t>(i)]];
        if (sp[i] <= 0) step = std::min(step, xi / (xi - sp[i]));
      }
      for (Eigen::Index i = 0; i < m; ++i) {
        double& xi = x[p[static_cast<size_t>(i)]];
        xi += step * (sp[i] - xi);
        if (xi <= tol) {
          xi = 0;
          passive[static_cast<size_t>(p[static_cast<size_t>(i)])] = false;
        }
      }
    }
  }
  return x;
}

namespace {

// Scratch for one thread's row solves.
struct RowSolver {
  const FactorMatrix& fixed;
  const Eigen::MatrixXd& gram;
  Eigen::MatrixXf gram_f;
  const AlsOptions& o;
  FactorMatrix yu, z;
  Eigen::VectorXf w, c;

  RowSolver(const FactorMatrix& f, const Eigen::MatrixXd& g, const AlsOptions& opts)
      : fixed(f), gram(g), gram_f(g.cast<float>()), o(opts) {}

  void gather(std::span<const uint32_t> index, std::span<const float> value) {
    const auto n = static_cast<Eigen::Index>(index.size());
    yu.resize(n, fixed.cols());
    w.resize(n);
    c.resize(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      yu.row(j) = fixed.row(index[static_cast<size_t>(j)]);
      w[j] = static_cast<float>(o.alpha) * value[static_cast<size_t>(j)];
      c[j] = 1.0f + w[j];
    }
  }

  Eigen::VectorXf cholesky(double lambda) {
    z = yu;
    for (Eigen::Index j = 0; j < z.rows(); ++j) z.row(j) *= std::sqrt(std::max(w[j], 0.0f));
    // A full GEMM beats the triangular rank update on the short, wide blocks typical here.
    Eigen::MatrixXf af(yu.cols(), yu.cols());
    af.noalias() = z.transpose() * z;
    if (!o.nonnegative) {
      // The factorisation is k³/3 per row, as much as forming A for a typical user: single
      // precision halves it, and λ|N(u)|·I keeps A well conditioned.
      af += gram_f;
      af.diagonal().array() += static_cast<float>(lambda);
      return af.llt().solve(yu.transpose() * c);
    }
    Eigen::MatrixXd a = gram + af.cast<double>();
    a.diagonal().array() += lambda;
    Eigen::VectorXd b = (yu.transpose() * c).cast<double>();
    return nnls(a, b).cast<float>();
  }

  Eigen::VectorXf apply(const Eigen::VectorXf& p, float lambda) const {
    Eigen::VectorXf q = (yu * p).cwiseProduct(w);
    return gram_f * p + yu.transpose() * q + lambda * p;
  }

  Eigen::VectorXf conjugate_gradient(Eigen::VectorXf x, double lambda_d) {
    const auto lambda = static_cast<float>(lambda_d);
    const Eigen::VectorXf b = yu.transpose() * c;
    const Eigen::Index k = x.size();
    if (o.nonnegative) x = x.cwiseMax(0.0f);
    // cg_steps counts search directions; a restart after a variable hits its bound costs one
    // more product for the gradient, and there are at most rank + 1 of them.
    int steps = o.cg_steps;
    for (Eigen::Index restart = 0; steps > 0 && restart <= k; ++restart) {
      // (Re)start: free variables are those off the bound or pulled away from it.
      Eigen::VectorXf r = b - apply(x, lambda);
      Eigen::Array<bool, Eigen::Dynamic, 1> free = Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(k, true);
      if (o.nonnegative) free = (x.array() > 0) || (r.array() > 0);
      auto mask = [&](Eigen::VectorXf v) { return Eigen::VectorXf(free.select(v.array(), 0.0f)); };
      r = mask(r);
      Eigen::VectorXf p = r;
      float rs = r.squaredNorm();
      bool hit_bound = false;
      while (steps > 0 && !hit_bound && rs > 1e-20f) {
        Eigen::VectorXf ap = mask(apply(p, lambda));
        --steps;
        float pap = p.dot(ap);
        if (!(pap > 0)) break;
        float step = rs / pap;
        if (o.nonnegative) {
          for (Eigen::Index j = 0; j < k; ++j)
            if (p[j] < 0 && -x[j] / p[j] < step) {
              step = -x[j] / p[j];
              hit_bound = true;
            }
        }
        x += step * p;
        if (o.nonnegative) x = x.cwiseMax(0.0f);
        r -= step * ap;
        float rs_next = r.squaredNorm();
        p = r + (rs_next / rs) * p;
        rs = rs_next;
      }
      if (!o.nonnegative || !hit_bound) break;
    }
    return x;
  }

  Eigen::VectorXf solve(std::span<const uint32_t> index, std::span<const float> value, const Eigen::VectorXf& start) {
    gather(index, value);
    double lambda = o.reg * static_cast<double>(index.size());
    return o.solver == AlsSolver::kCholesky ? cholesky(lambda) : conjugate_gradient(start, lambda);
  }
};

}  // namespace

void solve_rows(const Ratings& m, const FactorMatrix& fixed, FactorMatrix& out, const AlsOptions& o) {
  BYOML_CHECK(fixed.rows() == m.cols && out.rows() == m.rows && out.cols() == fixed.cols());
  Eigen::MatrixXd gram = gram_matrix(fixed, o.threads);
  parallel_chunks(m.rows, 256, o.threads, [&](size_t, size_t begin, size_t end) {
    RowSolver solver(fixed, gram, o);
    for (size_t r = begin; r < end; ++r) {
      auto row = static_cast<uint32_t>(r);
      if (m.row_index(row).empty()) {
        out.row(static_cast<Eigen::Index>(r)).setZero();
        continue;
      }
      Eigen::VectorXf start = out.row(static_cast<Eigen::Index>(r)).transpose();
      out.row(static_cast<Eigen::Index>(r)) = solver.solve(m.row_index(row), m.row_value(row), start).transpose();
    }
  });
}

Eigen::VectorXf solve_one(const FactorMatrix& fixed, const Eigen::MatrixXd& gram, std::span<const uint32_t> index,
                          std::span<const float> value, const AlsOptions& o) {
  AlsOptions exact = o;
  exact.solver = AlsSolver::kCholesky;  // one row: the exact solve costs nothing and needs no start
  RowSolver solver(fixed, gram, exact);
  return solver.solve(index, value, Eigen::VectorXf::Zero(fixed.cols()));
}

void train_als(const Ratings& m, FactorMatrix& users, FactorMatrix& items, const AlsOptions& o,
               const std::function<void(int, double)>& progress) {
  BYOML_CHECK(users.rows() == m.rows && users.cols() == o.rank);
  Ratings mt = m.transposed();
  if (items.rows() != m.cols || items.cols() != o.rank) items = FactorMatrix::Zero(m.cols, o.rank);
  for (int it = 1; it <= o.iterations; ++it) {
    auto t0 = std::chrono::steady_clock::now();
    solve_rows(mt, users, items, o);
    solve_rows(m, items, users, o);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress) progress(it, secs);
  }
}

}  // namespace byoml
