// CatalogItem, load_item_catalog and item_text: MovieLens-style movies.csv (+ tags.csv) into the
// exact item texts `nowrec catalog` embeds, so Python tools embed the same catalog.
#include <nanobind/nanobind.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "nowrec/eval/dataset.hpp"

namespace nowrec::python {

void bind_item_catalog(nb::module_& m) {
  nb::class_<CatalogItem>(m, "CatalogItem",
                          "One item of a MovieLens-style catalog and the text it is embedded from.")
      .def(
          "__init__",
          [](CatalogItem* item, std::int64_t id, std::string title, std::vector<std::string> genres,
             std::vector<std::string> tags) {
            new (item) CatalogItem{.id = id,
                                   .title = std::move(title),
                                   .genres = std::move(genres),
                                   .tags = std::move(tags)};
            item->text = item_text(*item);
          },
          nb::arg("id"), nb::arg("title"), nb::arg("genres") = std::vector<std::string>(),
          nb::arg("tags") = std::vector<std::string>(),
          "An item from its parts; text is item_text() of them.")
      .def_rw("id", &CatalogItem::id)
      .def_rw("title", &CatalogItem::title, "e.g. \"Toy Story (1995)\"")
      .def_rw("genres", &CatalogItem::genres)
      .def_rw("tags", &CatalogItem::tags, "Most used first.")
      .def_rw("text", &CatalogItem::text,
              "The text the item is embedded from (set by load_item_catalog and __init__; not "
              "updated when the other fields change).")
      .def("__repr__", [](const CatalogItem& item) {
        return "CatalogItem(id=" + std::to_string(item.id) + ", text='" + item.text + "')";
      });

  m.def("item_text", &item_text, nb::arg("item"),
        "The text an item is embedded from, e.g. \"Toy Story (1995). Genres: Adventure, "
        "Animation. Tags: pixar, fun.\" (the Genres and Tags parts left out when empty): the "
        "text `nowrec catalog` embeds.");

  m.def(
      "load_item_catalog",
      [](const std::filesystem::path& items_csv,
         const std::optional<std::filesystem::path>& tags_csv, std::size_t max_tags) {
        return load_item_catalog(items_csv, tags_csv.value_or(std::filesystem::path()),
                                 {.max_tags = max_tags});
      },
      nb::arg("items_csv"), nb::arg("tags_csv") = nb::none(), nb::arg("max_tags") = 10,
      nb::call_guard<nb::gil_scoped_release>(),
      "Reads a MovieLens-style items file (header movieId,title,genres; genres separated by '|') "
      "and, when given, a tags file (userId,movieId,tag,timestamp) into CatalogItems in file "
      "order, each with its text: the items and texts `nowrec catalog` builds (which passes the "
      "data folder's tags.csv when present). Tags are trimmed, lower-cased and kept most used "
      "first (ties alphabetical), at most max_tags per item. Raises nowrec.Error (Io, "
      "InvalidArgument) naming the file, line and column at fault.");
}

}  // namespace nowrec::python
