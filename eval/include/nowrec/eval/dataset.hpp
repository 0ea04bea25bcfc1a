// Interaction logs and item catalogs in the MovieLens column layout (ml-latest-small and any
// data written the same way), read into what the InterestTracker and the ItemIndex take.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nowrec {

// One row of an interactions file.
struct Interaction {
  std::int64_t user = 0;
  std::int64_t item = 0;
  std::int64_t timestamp = 0;  // seconds
  std::optional<float> rating;
};

// One item of a catalog, with the text that represents it to the encoder.
struct CatalogItem {
  std::int64_t id = 0;
  std::string title;                // "Toy Story (1995)"
  std::vector<std::string> genres;  // "(no genres listed)" reads as none
  std::vector<std::string> tags;    // most used first, at most CatalogOptions::max_tags
  std::string text;                 // item_text(*this), filled by load_item_catalog
};

struct CatalogOptions {
  std::size_t max_tags = 10;
};

// The text an item is embedded from, e.g.
//   "Toy Story (1995). Genres: Adventure, Animation. Tags: pixar, fun."
// (the "Genres: " and "Tags: " parts are left out when empty).
std::string item_text(const CatalogItem& item);

// Reads an items file with the header `movieId,title,genres` (genres separated by '|') and,
// when `tags_csv` is not empty, a tags file with the header `userId,movieId,tag,timestamp`.
// Tags are trimmed and lower-cased, counted per item and kept most used first (ties in
// alphabetical order). Items come out in file order. Throws Error(Io) for an unreadable file and
// Error(InvalidArgument) naming the file, line and column for a malformed row, a repeated item
// id or a tag naming an unknown item.
std::vector<CatalogItem> load_item_catalog(const std::filesystem::path& items_csv,
                                           const std::filesystem::path& tags_csv = {},
                                           const CatalogOptions& options = {});

// Reads an interactions file with the header `userId,movieId,rating,timestamp` (the rating
// column may be absent) and returns its rows ordered by (timestamp, user, item), so each user's
// rows follow the order (timestamp, item). Throws Error(Io) for an unreadable file and
// Error(InvalidArgument) naming the file, line and column for a malformed row or a rating that
// is not finite.
std::vector<Interaction> load_interactions(const std::filesystem::path& interactions_csv);

}  // namespace nowrec
