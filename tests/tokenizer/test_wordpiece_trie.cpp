// The double-array WordPiece trie against a plain hash-map greedy longest match.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_support.hpp"
#include "tokenizer/wordpiece.hpp"
#include "tokenizer/wordpiece_trie.hpp"

namespace nowrec::test {
namespace {

using detail::WordPieceMatch;

// BERT's WordPiece as the original Python and tokenizers' Rust write it: for each start, try
// the longest substring first and shorten until a vocabulary hit.
class ReferenceWordPiece {
 public:
  explicit ReferenceWordPiece(const std::vector<std::string>& vocab) {
    for (std::size_t id = 0; id < vocab.size(); ++id) ids_[vocab[id]] = static_cast<int>(id);
  }

  std::vector<WordPieceMatch> split(const std::string& word) const {
    std::vector<WordPieceMatch> out;
    std::size_t start = 0;
    while (start < word.size()) {
      std::size_t end = word.size();
      int found = -1;
      while (end > start) {
        std::string piece = word.substr(start, end - start);
        if (start > 0) piece = "##" + piece;
        const auto it = ids_.find(piece);
        if (it != ids_.end()) {
          found = it->second;
          break;
        }
        --end;
      }
      if (found < 0) return {};
      out.push_back({found, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end)});
      start = end;
    }
    return out;
  }

 private:
  std::unordered_map<std::string, int> ids_;
};

bool same(const std::vector<WordPieceMatch>& a, const WordPieceMatch* b, std::size_t count) {
  if (a.size() != count) return false;
  for (std::size_t i = 0; i < count; ++i) {
    if (a[i].id != b[i].id || a[i].begin != b[i].begin || a[i].end != b[i].end) return false;
  }
  return true;
}

const std::vector<std::string>& minilm_vocab() {
  static const auto vocab = detail::read_wordpiece_vocab(model_dir() / "vocab.txt");
  return vocab;
}

TEST_CASE("the trie finds every vocabulary token and nothing else") {
  const auto& vocab = minilm_vocab();
  const detail::WordPieceTrie trie(vocab, "##");
  std::unordered_map<std::string, int> last_id;
  for (std::size_t id = 0; id < vocab.size(); ++id) last_id[vocab[id]] = static_cast<int>(id);
  for (const auto& [token, id] : last_id) CHECK(trie.find(token) == id);
  CHECK(trie.find("definitely-not-a-token") == -1);
  CHECK(trie.find("") == -1);
}

TEST_CASE("trie WordPiece equals the reference greedy match on random and vocabulary words") {
  const auto& vocab = minilm_vocab();
  const detail::WordPieceTrie trie(vocab, "##");
  const ReferenceWordPiece reference(vocab);
  std::mt19937 rng(42);
  std::vector<WordPieceMatch> matches(512);
  std::size_t unknown = 0;

  // \x01 is in no token, so some words take the unknown-token path.
  const std::string letters = "abcdefghijklmnopqrstuvwxyz0123456789\x01";
  for (int i = 0; i < 20000; ++i) {
    std::string word;
    const int length = 1 + static_cast<int>(rng() % 24);
    for (int k = 0; k < length; ++k) word += letters[rng() % letters.size()];
    const auto expected = reference.split(word);
    const std::size_t count = trie.split(word, matches.data());
    unknown += expected.empty();
    INFO("word: " << word);
    CHECK(same(expected, matches.data(), count));
  }
  // Concatenations of real tokens (continuation prefix stripped) split the interesting way.
  for (int i = 0; i < 20000; ++i) {
    std::string word;
    const int parts = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < parts; ++k) {
      std::string token = vocab[rng() % vocab.size()];
      if (token.rfind("##", 0) == 0) token.erase(0, 2);
      word += token;
    }
    if (word.size() > matches.size()) continue;
    const auto expected = reference.split(word);
    const std::size_t count = trie.split(word, matches.data());
    INFO("word: " << word);
    CHECK(same(expected, matches.data(), count));
  }
  CHECK(unknown > 0);  // the random words reached the unknown-token path too
}

TEST_CASE("a trie over a tiny vocabulary") {
  const std::vector<std::string> vocab = {"[UNK]", "un", "##aff", "##able", "a", "##a", "##b"};
  const detail::WordPieceTrie trie(vocab, "##");
  std::vector<WordPieceMatch> matches(16);
  REQUIRE(trie.split("unaffable", matches.data()) == 3);
  CHECK(matches[0].id == 1);
  CHECK(matches[1].id == 2);
  CHECK(matches[2].id == 3);
  CHECK(matches[2].begin == 5);
  CHECK(matches[2].end == 9);
  CHECK(trie.split("aab", matches.data()) == 3);
  CHECK(trie.split("unx", matches.data()) == 0);
  CHECK(trie.split("b", matches.data()) == 0);  // "b" exists only as a continuation

  const detail::WordPieceTrie no_continuations({"[UNK]", "ab"}, "##");
  CHECK(no_continuations.split("ab", matches.data()) == 1);
  CHECK(no_continuations.split("abab", matches.data()) == 0);
}

}  // namespace
}  // namespace nowrec::test
