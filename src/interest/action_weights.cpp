// The default action table: what a typical catalog's actions say about interest.
#include "nowrec/interest_types.hpp"

namespace nowrec {

std::vector<ActionWeight> default_action_weights() {
  return {
      {"view", 0.5f},  {"click", 1.0f},  {"like", 2.0f},  {"add_to_cart", 3.0f}, {"purchase", 5.0f},
      {"share", 3.0f}, {"search", 4.0f}, {"skip", -0.5f}, {"dislike", -2.0f},
  };
}

}  // namespace nowrec
