// libFuzzer target: the outside files nowrec parses besides models and snapshots, on arbitrary
// contents.
//
// The first byte picks the reader: 0 the interactions CSV, 1 the items CSV, 2 the items CSV with
// the same bytes as its tags file, 3 a float32 .npy matrix, 4 an int64 .npy vector, 5 the
// next-interest model's config.json. Refusing input must be a nowrec::Error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "cli/npy_reader.hpp"
#include "interest/next_interest_config.hpp"
#include "nowrec/error.hpp"
#include "nowrec/eval/dataset.hpp"

#include "scratch_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view contents(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::filesystem::path& file = nowrec::fuzz::write_scratch_file(data + 1, size - 1);
  try {
    switch (data[0] % 6) {
      case 0:
        nowrec::load_interactions(file);
        break;
      case 1:
        nowrec::load_item_catalog(file);
        break;
      case 2:
        nowrec::load_item_catalog(file, file);
        break;
      case 3: {
        std::size_t rows = 0, cols = 0;
        const auto values = nowrec::cli::read_npy_f32_matrix(file, rows, cols);
        if (values.size() != rows * cols) __builtin_trap();
        break;
      }
      case 4:
        nowrec::cli::read_npy_i64_vector(file);
        break;
      default:
        nowrec::interest::parse_next_interest_config(contents, "config.json");
        break;
    }
  } catch (const nowrec::Error&) {
  }
  return 0;
}
