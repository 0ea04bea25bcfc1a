// load_item_catalog and item_text: MovieLens movies.csv + tags.csv into encoder-ready items.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "data/csv_reader.hpp"
#include "nowrec/eval/dataset.hpp"
#include "nowrec/error.hpp"

namespace nowrec {
namespace {

std::vector<std::string> split_genres(const std::string& field) {
  std::vector<std::string> genres;
  if (field.empty() || field == "(no genres listed)") return genres;
  std::size_t start = 0;
  while (start <= field.size()) {
    const std::size_t end = std::min(field.find('|', start), field.size());
    if (end > start) genres.push_back(field.substr(start, end - start));
    start = end + 1;
  }
  return genres;
}

// Tags are free text typed by users: "Pixar", " pixar" and "PIXAR" are one tag. Only ASCII
// letters are folded; other UTF-8 bytes pass through unchanged.
std::string normalise_tag(const std::string& tag) {
  const auto is_space = [](unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  std::size_t begin = 0, end = tag.size();
  while (begin < end && is_space(static_cast<unsigned char>(tag[begin]))) ++begin;
  while (end > begin && is_space(static_cast<unsigned char>(tag[end - 1]))) --end;
  std::string folded = tag.substr(begin, end - begin);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return folded;
}

void append_list(std::string& text, const char* label, const std::vector<std::string>& values) {
  if (values.empty()) return;
  text += ' ';
  text += label;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ", ";
    text += values[i];
  }
  text += '.';
}

void read_tags(const std::filesystem::path& tags_csv,
               const std::unordered_map<std::int64_t, std::size_t>& row_of,
               std::vector<CatalogItem>& items, std::size_t max_tags) {
  data::CsvReader reader(tags_csv);
  const std::size_t user_column = reader.column("userId");
  const std::size_t item_column = reader.column("movieId");
  const std::size_t tag_column = reader.column("tag");
  const auto timestamp_column = reader.find_column("timestamp");
  // Per item: tag -> how many times it was applied. std::map keeps ties alphabetical.
  std::vector<std::map<std::string, std::size_t>> counts(items.size());
  while (reader.next()) {
    reader.integer(user_column);
    if (timestamp_column) reader.integer(*timestamp_column);
    const std::int64_t item = reader.integer(item_column);
    const auto row = row_of.find(item);
    if (row == row_of.end()) {
      reader.fail(item_column, "item " + std::to_string(item) + " is not in the items file");
    }
    std::string tag = normalise_tag(reader.field(tag_column));
    if (!tag.empty()) ++counts[row->second][std::move(tag)];
  }
  for (std::size_t row = 0; row < items.size(); ++row) {
    std::vector<std::pair<std::string, std::size_t>> ranked(counts[row].begin(), counts[row].end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (ranked.size() > max_tags) ranked.resize(max_tags);
    for (auto& [tag, count] : ranked) items[row].tags.push_back(std::move(tag));
  }
}

}  // namespace

std::string item_text(const CatalogItem& item) {
  std::string text = item.title;
  text += '.';
  append_list(text, "Genres: ", item.genres);
  append_list(text, "Tags: ", item.tags);
  return text;
}

std::vector<CatalogItem> load_item_catalog(const std::filesystem::path& items_csv,
                                           const std::filesystem::path& tags_csv,
                                           const CatalogOptions& options) {
  data::CsvReader reader(items_csv);
  const std::size_t id_column = reader.column("movieId");
  const std::size_t title_column = reader.column("title");
  const std::size_t genres_column = reader.column("genres");
  std::vector<CatalogItem> items;
  std::unordered_map<std::int64_t, std::size_t> row_of;
  std::vector<std::size_t> line_of;
  while (reader.next()) {
    CatalogItem item;
    item.id = reader.integer(id_column);
    item.title = reader.field(title_column);
    if (item.title.empty()) reader.fail(title_column, "empty title");
    item.genres = split_genres(reader.field(genres_column));
    const auto [found, inserted] = row_of.emplace(item.id, items.size());
    if (!inserted) {
      reader.fail(id_column, "item " + std::to_string(item.id) + " is repeated (first on line " +
                                 std::to_string(line_of[found->second]) + ")");
    }
    line_of.push_back(reader.line());
    items.push_back(std::move(item));
  }
  if (!tags_csv.empty()) read_tags(tags_csv, row_of, items, options.max_tags);
  for (CatalogItem& item : items) item.text = item_text(item);
  return items;
}

}  // namespace nowrec
