// Reads an items file (CSV or TSV with a header row) into ids and texts for `nowrec index`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace nowrec::cli {

struct ItemTableOptions {
  std::string id_column;                  // empty: the first column
  std::vector<std::string> text_columns;  // empty: every column but the id, joined by spaces
  std::size_t limit = 0;                  // rows to read; 0: all
};

struct ItemTable {
  std::vector<std::int64_t> ids;
  std::vector<std::string> texts;
};

// The delimiter is a tab when the header line holds one, else a comma. CSV fields may be quoted
// ("" inside quotes is a quote). Throws nowrec::Error(InvalidArgument) naming the file, line and
// column for a missing column, a bad id, a row whose field count is not the header's or a quoted
// field still open at the end of the file; Error(Io) when unreadable.
ItemTable read_item_table(const std::filesystem::path& path, const ItemTableOptions& options);

}  // namespace nowrec::cli
