// Joins interactions to catalog rows and groups them per user.
#include "replay/replay_data.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "nowrec/error.hpp"

namespace nowrec::eval::replay {

std::string_view action_for_rating(const std::optional<float>& rating) {
  if (!rating.has_value()) return "click";
  return *rating >= 4.0f ? "like" : "view";
}

ReplayData make_replay_data(std::vector<Interaction> interactions,
                            std::span<const std::int64_t> catalog_ids,
                            const std::string& interactions_name, const std::string& catalog_name) {
  if (catalog_ids.empty()) {
    throw Error(ErrorCode::InvalidArgument, catalog_name + ": the catalog has no items");
  }
  ReplayData data;
  data.item_ids.assign(catalog_ids.begin(), catalog_ids.end());
  data.row_of.reserve(catalog_ids.size());
  for (std::size_t row = 0; row < catalog_ids.size(); ++row) {
    if (!data.row_of.emplace(catalog_ids[row], std::uint32_t(row)).second) {
      throw Error(ErrorCode::InvalidArgument,
                  catalog_name + ": item id " + std::to_string(catalog_ids[row]) + " is repeated");
    }
  }
  // The loader sorts already; sorting again makes any caller's order safe (stable, so equal
  // keys keep the file order).
  std::stable_sort(
      interactions.begin(), interactions.end(), [](const Interaction& a, const Interaction& b) {
        return std::tie(a.timestamp, a.user, a.item) < std::tie(b.timestamp, b.user, b.item);
      });
  data.events.reserve(interactions.size());
  std::map<std::int64_t, std::vector<std::uint32_t>> per_user;
  for (const Interaction& interaction : interactions) {
    const auto found = data.row_of.find(interaction.item);
    if (found == data.row_of.end()) {
      throw Error(ErrorCode::InvalidArgument,
                  interactions_name + ": user " + std::to_string(interaction.user) +
                      " interacted with item " + std::to_string(interaction.item) + ", which " +
                      catalog_name + " does not list");
    }
    per_user[interaction.user].push_back(std::uint32_t(data.events.size()));
    data.events.push_back({.user = interaction.user,
                           .row = found->second,
                           .timestamp = interaction.timestamp,
                           .action = action_for_rating(interaction.rating)});
  }
  data.users.reserve(per_user.size());
  data.user_events.reserve(per_user.size());
  for (auto& [user, indices] : per_user) {
    data.users.push_back(user);
    data.user_events.push_back(std::move(indices));
  }
  return data;
}

}  // namespace nowrec::eval::replay
