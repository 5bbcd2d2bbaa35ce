// Byte scans eight or sixteen bytes at a time (SWAR, SSE2), for the short strings every record
// holds: a library call per string costs more than the work.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace byoml {

namespace bytes_detail {
inline constexpr uint64_t kOnes = 0x0101010101010101ull;
inline constexpr uint64_t kHigh = 0x8080808080808080ull;
inline uint64_t load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
// The high bit of each byte of `x` that equals `c` (exact, no false positives).
inline uint64_t bytes_equal(uint64_t x, unsigned char c) {
  uint64_t y = x ^ (kOnes * c);
  return ~(((y & ~kHigh) + ~kHigh) | y) & kHigh;
}
// The high bit of each byte of `low7` (bytes below 0x80) in [lo, hi].
inline uint64_t bytes_in_range(uint64_t low7, unsigned char lo, unsigned char hi) {
  return (low7 + kOnes * (0x80 - lo)) & ~(low7 + kOnes * (0x7f - hi)) & kHigh;
}
struct HexTable {
  uint8_t v[256];
  constexpr HexTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = 0x80;  // not a hex digit
    for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<uint8_t>(i);
    for (int i = 0; i < 6; ++i) v['a' + i] = v['A' + i] = static_cast<uint8_t>(10 + i);
  }
};
inline constexpr HexTable kHex;
}  // namespace bytes_detail

// The value of hex digit `c`, or 0x80 when `c` is not one (tested once for many digits).
inline uint8_t hex_value(char c) { return bytes_detail::kHex.v[static_cast<unsigned char>(c)]; }

// The value of 8 hex digits, the first in the lowest byte of `x` (as loaded from memory) and
// read as the highest; false when one is not a digit.
inline bool hex8(uint64_t x, uint32_t& out) {
  using namespace bytes_detail;
  uint64_t low7 = x & ~kHigh;
  uint64_t letter = bytes_in_range(low7 | (kOnes * 0x20), 'a', 'f');  // either case
  if (((bytes_in_range(low7, '0', '9') | letter) & ~x) != kHigh) return false;
  uint64_t v = __builtin_bswap64((x & (kOnes * 0x0f)) + (letter >> 7) * 9);  // a nibble per byte, first highest
  v = (v | (v >> 4)) & 0x00ff00ff00ff00ffull;
  v = (v | (v >> 8)) & 0x0000ffff0000ffffull;
  out = static_cast<uint32_t>(v | (v >> 16));
  return true;
}

// memcmp(a, b, n) == 0 for short strings: overlapping loads cover 4 to 32 bytes.
inline bool same_bytes(const char* a, const char* b, size_t n) {
  using namespace bytes_detail;
  if (n > 32) return std::memcmp(a, b, n) == 0;
  if (n > 16)
    return ((load8(a) ^ load8(b)) | (load8(a + 8) ^ load8(b + 8)) | (load8(a + n - 16) ^ load8(b + n - 16)) |
            (load8(a + n - 8) ^ load8(b + n - 8))) == 0;
  if (n >= 8) return load8(a) == load8(b) && load8(a + n - 8) == load8(b + n - 8);
  if (n >= 4) {
    uint32_t x[4];
    std::memcpy(&x[0], a, 4), std::memcpy(&x[1], b, 4), std::memcpy(&x[2], a + n - 4, 4), std::memcpy(&x[3], b + n - 4, 4);
    return x[0] == x[1] && x[2] == x[3];
  }
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// The first byte equal to `a` or `b` from `p` on. The buffer must hold one, and be readable
// for 15 bytes past it (simdjson's padded input is): it is scanned 16 bytes at a time with
// SSE2, which every x86-64 has, else a word at a time.
inline const char* find_either_padded(const char* p, char a, char b) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
  for (;; p += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    auto m = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb))));
    if (m) return p + __builtin_ctz(m);
  }
#else
  using namespace bytes_detail;
  for (;; p += 8) {
    uint64_t w = load8(p);
    uint64_t m = bytes_equal(w, static_cast<unsigned char>(a)) | bytes_equal(w, static_cast<unsigned char>(b));
    if (m) return p + (__builtin_ctzll(m) >> 3);
  }
#endif
}

// Whether s holds byte `c`.
inline bool contains_byte(std::string_view s, char c) {
  using namespace bytes_detail;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8)
    if (bytes_equal(load8(s.data() + i), static_cast<unsigned char>(c))) return true;
  for (; i < s.size(); ++i)
    if (s[i] == c) return true;
  return false;
}

// s with ASCII A-Z folded to a-z (other bytes, UTF-8 included, unchanged), written to the
// front of `buffer`, which only ever grows, so reusing it costs no resize; s may be the
// buffer's own text.
inline std::string_view ascii_lower_into(std::string& buffer, std::string_view s) {
  using namespace bytes_detail;
  if (buffer.size() < s.size()) buffer.resize(s.size());  // never when s is the buffer's text
  char* d = buffer.data();
  size_t i = 0;
  auto fold8 = [&](size_t at) {
    uint64_t x = load8(s.data() + at);
    x |= (bytes_in_range(x & ~kHigh, 'A', 'Z') & ~x) >> 2;  // 0x80 >> 2 == 0x20, the case bit
    std::memcpy(d + at, &x, 8);
  };
  for (; i + 8 <= s.size(); i += 8) fold8(i);
  // The last bytes as the last 8 of s: folding twice changes nothing, also in place.
  if (i < s.size() && s.size() >= 8) {
    fold8(s.size() - 8);
    i = s.size();
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    d[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
  }
  return {d, s.size()};
}

// a == b with ASCII A-Z taken as a-z; `lower` must be lowercase already.
inline bool ascii_lower_equals(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + ('a' - 'A')) : a[i];
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace byoml
