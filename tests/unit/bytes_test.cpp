// The eight-bytes-at-a-time scans agree with the plain loops they replace, for every length
// around their word sizes and for every byte value (UTF-8 and bytes next to A-Z included).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "byoml/common/bytes.h"

namespace byoml {
namespace {

std::string plain_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

}  // namespace

TEST(Bytes, LowercaseFoldsOnlyAsciiLettersForEveryByteValue) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string out;
  for (size_t shift = 0; shift < 8; ++shift) {
    std::string s = all.substr(shift) + all.substr(0, shift);
    EXPECT_EQ(ascii_lower_into(out, s), plain_lower(s));
  }
  std::string self = "CONTOSO\\Lucas.ITO \xC3\x89VE@[`{";
  EXPECT_EQ(ascii_lower_into(self, self), "contoso\\lucas.ito \xC3\x89ve@[`{");  // in place
  EXPECT_EQ(ascii_lower_into(self, "AB"), "ab");  // a longer buffer is reused, the view is the text's size
  EXPECT_TRUE(ascii_lower_equals("MaChInE", "machine"));
  EXPECT_FALSE(ascii_lower_equals("MaChInE!", "machine"));
  EXPECT_FALSE(ascii_lower_equals("\xCD", "m"));
}

TEST(Bytes, ScansAgreeWithPlainLoopsOnRandomStrings) {
  std::mt19937 rng(7);
  const std::string alphabet = "aAzZ@[`{\\\"\x80\xC1\xDA\xFF 0";
  for (int round = 0; round < 20000; ++round) {
    size_t n = rng() % 41;
    std::string a(n, ' ');
    for (char& c : a) c = alphabet[rng() % alphabet.size()];
    std::string out;
    ASSERT_EQ(ascii_lower_into(out, a), plain_lower(a)) << a;
    ASSERT_EQ(contains_byte(a, '\\'), a.find('\\') != std::string::npos) << a;
    // As in simdjson's padded input: the text, a quote, and padding past it.
    std::string padded = a + '"' + std::string(16, 'x');
    ASSERT_EQ(static_cast<size_t>(find_either_padded(padded.data(), '"', '\\') - padded.data()), a.find_first_of("\"\\") == std::string::npos ? n : a.find_first_of("\"\\")) << a;
    std::string b = a;
    if (n > 0 && rng() % 2) b[rng() % n] ^= static_cast<char>(1 + rng() % 255);
    ASSERT_EQ(same_bytes(a.data(), b.data(), n), a == b) << a << " / " << b;
  }
}

}  // namespace byoml
