// Catalog embeddings for the command line: built from a MovieLens-style folder once, then reused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nowrec/eval/dataset.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec::cli {

// What the embeddings are made from. A cache is reused only when all of it is unchanged.
struct CatalogSource {
  std::filesystem::path data_dir;   // movies.csv, and tags.csv when present
  std::filesystem::path model_dir;  // the folder the encoder was loaded from
  std::size_t max_tags = 10;
};

struct CatalogBuildOptions {
  std::size_t batch = 64;  // texts per encoder call
  bool rebuild = false;    // ignore a matching cache
  std::string log_prefix;  // e.g. "nowrec demo: "; progress goes to stderr
  bool quiet = false;      // no progress lines
};

// A catalog and its embeddings; row i of `embeddings` belongs to items[i] and ids[i].
struct CatalogEmbeddings {
  std::vector<CatalogItem> items;
  std::vector<std::int64_t> ids;
  std::vector<float> embeddings;  // [items][dim], the encoder's (normalised) output
  std::size_t dim = 0;
  bool reused = false;         // read from the cache rather than embedded now
  double embed_seconds = 0.0;  // time spent embedding (0 when reused)
};

// The files of a catalog folder.
struct CatalogFiles {
  static constexpr const char* ids = "item_ids.npy";                // int64 [n]
  static constexpr const char* embeddings = "item_embeddings.npy";  // float32 [n][dim]
  static constexpr const char* texts = "item_texts.txt";            // one item_text() per line
  static constexpr const char* index = "items.idx";                 // ItemIndex, F32 storage
  static constexpr const char* manifest = "manifest.json";          // the inputs, written last
};

// Reads the catalog from source.data_dir and returns its embeddings: from `cache_dir` when its
// manifest names the same inputs (model files, data file contents, max_tags, encoder dtype) and
// its files still have the hashes the manifest recorded for them, else embedded with `encoder`
// and written to `cache_dir` (created when
// missing; each file atomically, the manifest last, so an interrupted build is never reused).
// Throws nowrec::Error for unreadable or malformed data and unwritable folders.
CatalogEmbeddings load_or_build_catalog(const CatalogSource& source, const SequenceEncoder& encoder,
                                        const std::filesystem::path& cache_dir,
                                        const CatalogBuildOptions& options = {});

// True when `cache_dir` holds whole catalog files made from these inputs, so that
// load_or_build_catalog would embed nothing (callers may then skip loading a build encoder).
bool catalog_cache_is_current(const CatalogSource& source, const SequenceEncoder& encoder,
                              const std::filesystem::path& cache_dir);

// The manifest text load_or_build_catalog writes for these inputs (for tests and diagnostics).
std::string catalog_manifest(const CatalogSource& source, const SequenceEncoder& encoder);

}  // namespace nowrec::cli
