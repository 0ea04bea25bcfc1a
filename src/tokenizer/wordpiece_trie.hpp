// A double-array trie over a WordPiece vocabulary and the greedy longest-match-first split that
// BERT's WordPiece performs on one word: one array step per byte, no hashing of substrings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nowrec::detail {

struct WordPieceMatch {
  std::int32_t id = 0;
  std::uint32_t begin = 0;  // byte range in the word
  std::uint32_t end = 0;
};

// Thread-safety: immutable after construction.
class WordPieceTrie {
 public:
  // tokens[id] is the text of token `id`. Pieces after the first in a word are looked up as
  // continuation_prefix + piece, as Hugging Face tokenizers does.
  WordPieceTrie(const std::vector<std::string>& tokens, std::string_view continuation_prefix) {
    build(tokens);
    continuation_root_ = walk(0, continuation_prefix);
  }

  // Splits `word` greedily, longest vocabulary piece first. Writes the pieces to `out`, which
  // has room for word.size() entries, and returns their count; returns 0 when some part of the
  // word matches no piece (the word is then one unknown token).
  std::size_t split(std::string_view word, WordPieceMatch* out) const {
    const auto* bytes = reinterpret_cast<const unsigned char*>(word.data());
    const std::size_t size = word.size();
    const Node* nodes = nodes_.data();
    const std::size_t node_count = nodes_.size();
    std::size_t count = 0;
    std::size_t pos = 0;
    std::int32_t start = 0;
    while (pos < size) {
      if (start < 0) return 0;
      std::int32_t state = start;
      std::int32_t best_id = -1;
      std::size_t best_end = 0;
      for (std::size_t i = pos; i < size; ++i) {
        const std::size_t next = static_cast<std::size_t>(nodes[state].base) + bytes[i];
        if (next >= node_count || nodes[next].check != state) break;
        state = static_cast<std::int32_t>(next);
        if (nodes[state].value >= 0) {
          best_id = nodes[state].value;
          best_end = i + 1;
        }
      }
      if (best_id < 0) return 0;
      out[count++] = {best_id, static_cast<std::uint32_t>(pos),
                      static_cast<std::uint32_t>(best_end)};
      pos = best_end;
      start = continuation_root_;
    }
    return count;
  }

  // The id of the token spelled exactly `token`, or -1.
  std::int32_t find(std::string_view token) const {
    const std::int32_t state = walk(0, token);
    return state < 0 ? -1 : nodes_[static_cast<std::size_t>(state)].value;
  }

 private:
  struct Node {
    std::int32_t base = 0;    // children of this node live at base + byte
    std::int32_t check = -1;  // parent of the node in this slot; -1 for a free slot
    std::int32_t value = -1;  // token id ending here, or -1
  };

  std::int32_t walk(std::int32_t state, std::string_view text) const {
    for (const char ch : text) {
      const std::size_t next =
          static_cast<std::size_t>(nodes_[static_cast<std::size_t>(state)].base) +
          static_cast<unsigned char>(ch);
      if (next >= nodes_.size() || nodes_[next].check != state) return -1;
      state = static_cast<std::int32_t>(next);
    }
    return state;
  }

  void build(const std::vector<std::string>& tokens) {
    // A plain pointer trie first, then each node's children are placed at the lowest base
    // where all of their slots are free.
    struct BuildNode {
      std::map<unsigned char, std::int32_t> children;
      std::int32_t value = -1;
    };
    std::vector<BuildNode> trie(1);
    for (std::size_t id = 0; id < tokens.size(); ++id) {
      std::int32_t node = 0;
      for (const char ch : tokens[id]) {
        const auto byte = static_cast<unsigned char>(ch);
        auto found = trie[static_cast<std::size_t>(node)].children.find(byte);
        if (found == trie[static_cast<std::size_t>(node)].children.end()) {
          trie.push_back({});
          const auto child = static_cast<std::int32_t>(trie.size() - 1);
          trie[static_cast<std::size_t>(node)].children.emplace(byte, child);
          node = child;
        } else {
          node = found->second;
        }
      }
      // A later duplicate line keeps the later id, as a dictionary built line by line does.
      trie[static_cast<std::size_t>(node)].value = static_cast<std::int32_t>(id);
    }

    FreeSlots free_slots(nodes_);
    free_slots.take(0);
    // (build node, slot) pairs in breadth-first order.
    std::vector<std::pair<std::int32_t, std::int32_t>> queue{{0, 0}};
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const auto [build_index, slot] = queue[head];
      const BuildNode& node = trie[static_cast<std::size_t>(build_index)];
      nodes_[static_cast<std::size_t>(slot)].value = node.value;
      if (node.children.empty()) continue;
      const std::size_t base = free_slots.place(node.children);
      nodes_[static_cast<std::size_t>(slot)].base = static_cast<std::int32_t>(base);
      for (const auto& [byte, child] : node.children) {
        const std::size_t at = base + byte;
        free_slots.take(at);
        nodes_[at].check = slot;
        queue.emplace_back(child, static_cast<std::int32_t>(at));
      }
    }
    // The root's check marks its slot as used; no transition can lead back to slot 0 because
    // every base is at least 1.
    nodes_[0].check = -2;
  }

  // The free slots of the array as a doubly linked list, so that placing a node visits only
  // free slots instead of scanning past the dense front of the array.
  class FreeSlots {
   public:
    explicit FreeSlots(std::vector<Node>& nodes) : nodes_(nodes) { grow(512); }

    void take(std::size_t at) {
      grow(at + 1);
      const std::int32_t prev = prev_[at];
      const std::int32_t next = next_[at];
      if (prev >= 0)
        next_[static_cast<std::size_t>(prev)] = next;
      else
        head_ = next;
      if (next >= 0)
        prev_[static_cast<std::size_t>(next)] = prev;
      else
        tail_ = prev;
      prev_[at] = next_[at] = kTaken;
    }

    // The lowest base at which every child's slot is free.
    template <typename Children>
    std::size_t place(const Children& children) {
      const std::size_t first_byte = children.begin()->first;
      std::int32_t candidate = head_;
      for (;;) {
        if (candidate < 0) {
          candidate = static_cast<std::int32_t>(prev_.size());
          grow(prev_.size() + 256);
        }
        const auto at = static_cast<std::size_t>(candidate);
        if (at > first_byte) {  // bases start at 1: slot 0 is the root
          const std::size_t base = at - first_byte;
          grow(base + 256);
          bool fits = true;
          for (const auto& entry : children) {
            if (prev_[base + entry.first] == kTaken) {
              fits = false;
              break;
            }
          }
          if (fits) return base;
        }
        candidate = next_[at];
      }
    }

   private:
    static constexpr std::int32_t kTaken = -2;

    void grow(std::size_t size) {
      const std::size_t old = prev_.size();
      if (size <= old) return;
      nodes_.resize(size);
      prev_.resize(size);
      next_.resize(size);
      for (std::size_t i = old; i < size; ++i) {
        prev_[i] = tail_;
        next_[i] = -1;
        if (tail_ >= 0)
          next_[static_cast<std::size_t>(tail_)] = static_cast<std::int32_t>(i);
        else
          head_ = static_cast<std::int32_t>(i);
        tail_ = static_cast<std::int32_t>(i);
      }
    }

    std::vector<Node>& nodes_;
    std::vector<std::int32_t> prev_;
    std::vector<std::int32_t> next_;
    std::int32_t head_ = -1;
    std::int32_t tail_ = -1;
  };

  std::vector<Node> nodes_;
  std::int32_t continuation_root_ = -1;
};

}  // namespace nowrec::detail
