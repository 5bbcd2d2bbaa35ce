// A driver for the fuzz targets without libFuzzer, for `make test` (g++, ASan + UBSan): each
// input file or every file of each directory given goes through LLVMFuzzerTestOneInput as it
// is, then in `--mutations N` deterministic variants (cut short, bytes flipped, a run repeated,
// a run dropped), so the harness and the code behind it are exercised on every test run. Real
// fuzzing, coverage-guided, is `make fuzz`.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void run(const std::string& bytes) {
  // A copy of exactly the input's size, so ASan sees any read past its end.
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(copy.data(), copy.size());
}

std::string mutate(const std::string& seed, std::mt19937_64& rng) {
  std::string s = seed;
  if (s.empty()) return s;
  auto at = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  switch (rng() % 4) {
    case 0: s.resize(at(s.size())); break;
    case 1:
      for (int i = 0; i < 1 + static_cast<int>(rng() % 8); ++i) s[at(s.size())] = static_cast<char>(rng());
      break;
    case 2: {
      size_t from = at(s.size()), len = std::min<size_t>(1 + at(64), s.size() - from);
      s.insert(at(s.size()), s.substr(from, len));
      break;
    }
    default: {
      size_t from = at(s.size());
      s.erase(from, 1 + at(64));
      break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a))
        if (e.is_regular_file()) files.push_back(e.path().string());
    } else {
      files.push_back(a);
    }
  }
  std::sort(files.begin(), files.end());
  std::mt19937_64 rng(20261129);
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    run(seed);
    for (long m = 0; m < mutations; ++m) run(mutate(seed, rng));
  }
  std::printf("%zu inputs, %ld mutations each\n", files.size(), mutations);
  return files.empty() ? 1 : 0;
}
