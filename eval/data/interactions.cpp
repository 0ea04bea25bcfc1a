// load_interactions: a MovieLens-style ratings file, checked and put in time order.
#include <algorithm>
#include <tuple>

#include "data/csv_reader.hpp"
#include "nowrec/eval/dataset.hpp"

namespace nowrec {

std::vector<Interaction> load_interactions(const std::filesystem::path& interactions_csv) {
  data::CsvReader reader(interactions_csv);
  const std::size_t user_column = reader.column("userId");
  const std::size_t item_column = reader.column("movieId");
  const std::size_t timestamp_column = reader.column("timestamp");
  const auto rating_column = reader.find_column("rating");
  std::vector<Interaction> rows;
  while (reader.next()) {
    Interaction row;
    row.user = reader.integer(user_column);
    row.item = reader.integer(item_column);
    row.timestamp = reader.integer(timestamp_column);
    if (rating_column) row.rating = reader.finite_number(*rating_column);
    rows.push_back(row);
  }
  // Stable, so repeated (timestamp, user, item) rows keep their file order.
  std::stable_sort(rows.begin(), rows.end(), [](const Interaction& a, const Interaction& b) {
    return std::tie(a.timestamp, a.user, a.item) < std::tie(b.timestamp, b.user, b.item);
  });
  return rows;
}

}  // namespace nowrec
