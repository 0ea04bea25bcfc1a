// load_or_build_catalog: a manifest of the inputs decides whether cached embeddings are reused.
#include "cli/catalog_cache.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "cli/npy_reader.hpp"
#include "cli/npy_writer.hpp"
#include "cli/progress.hpp"
#include "common/atomic_file.hpp"
#include "nowrec/error.hpp"
#include "nowrec/item_index.hpp"

namespace nowrec::cli {
namespace {

using common::write_file_atomically;

constexpr int kManifestFormat = 2;  // 2: the outputs' hashes
// Model files larger than this are identified by size and modification time rather than read
// whole: hashing a multi-GB weights file on every start would cost more than it saves.
constexpr std::uintmax_t kHashWholeFileBelow = 4u << 20;

// FNV-1a, 64 bits: enough to notice a changed input, not meant to resist tampering.
class Fnv1a {
 public:
  void add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ull;
    }
  }
  std::string hex() const {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash_));
    return text;
  }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ull;
};

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, path.string() + ": cannot open the file for reading");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

std::string bytes_hash(std::string_view bytes) {
  Fnv1a hash;
  hash.add(bytes);
  return hash.hex();
}

std::string content_hash(const std::filesystem::path& path) { return bytes_hash(read_bytes(path)); }

// The cached files whose hashes the manifest keeps (the index file checks itself when loaded).
constexpr const char* kHashedOutputs[] = {CatalogFiles::ids, CatalogFiles::embeddings,
                                          CatalogFiles::texts};

// Every regular file of the model folder by relative path, size and either its bytes or its
// modification time.
std::string model_hash(const std::filesystem::path& model_dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(model_dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  Fnv1a hash;
  for (const auto& file : files) {
    const auto size = std::filesystem::file_size(file);
    hash.add(std::filesystem::relative(file, model_dir).generic_string());
    hash.add(std::string_view("\0", 1));
    hash.add(std::to_string(size));
    if (size < kHashWholeFileBelow) {
      hash.add(read_bytes(file));
    } else {
      hash.add(std::to_string(std::filesystem::last_write_time(file).time_since_epoch().count()));
    }
  }
  return hash.hex();
}

std::filesystem::path tags_file(const CatalogSource& source) {
  const auto tags = source.data_dir / "tags.csv";
  return std::filesystem::exists(tags) ? tags : std::filesystem::path();
}

nlohmann::json manifest_json(const CatalogSource& source, const SequenceEncoder& encoder) {
  const auto movies = source.data_dir / "movies.csv";
  if (!std::filesystem::exists(movies)) {
    throw Error(ErrorCode::NotFound, source.data_dir.string() + ": no movies.csv in the folder");
  }
  nlohmann::json data = {{"movies.csv", content_hash(movies)}};
  if (const auto tags = tags_file(source); !tags.empty()) data["tags.csv"] = content_hash(tags);
  return {
      {"format", kManifestFormat},
      {"model", std::filesystem::weakly_canonical(source.model_dir).string()},
      {"model_hash", model_hash(source.model_dir)},
      {"dtype", std::string(dtype_name(encoder.info().dtype))},
      {"dim", encoder.dim()},
      {"data", data},
      {"max_tags", source.max_tags},
  };
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

// The cached embeddings when the manifest matches and the files agree with the catalog.
bool read_cache(const std::filesystem::path& dir, const nlohmann::json& expected,
                CatalogEmbeddings& catalog) {
  const auto manifest_path = dir / CatalogFiles::manifest;
  if (!std::filesystem::exists(manifest_path)) return false;
  const auto manifest = nlohmann::json::parse(read_bytes(manifest_path), nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("inputs") ||
      manifest["inputs"] != expected) {
    return false;
  }
  // A file changed since it was written (a flipped bit, a partial copy) is not reused, even when
  // it still parses: the manifest holds each output's hash.
  const auto outputs = manifest.find("outputs");
  if (outputs == manifest.end() || !outputs->is_object()) return false;
  for (const char* name : kHashedOutputs) {
    const auto hash = outputs->find(name);
    if (hash == outputs->end() || !hash->is_string() || !std::filesystem::exists(dir / name) ||
        content_hash(dir / name) != hash->get<std::string>()) {
      return false;
    }
  }
  try {
    std::size_t rows = 0, cols = 0;
    std::vector<float> embeddings = read_npy_f32_matrix(dir / CatalogFiles::embeddings, rows, cols);
    std::vector<std::int64_t> ids = read_npy_i64_vector(dir / CatalogFiles::ids);
    if (rows != catalog.ids.size() || cols != catalog.dim || ids != catalog.ids ||
        !std::filesystem::exists(dir / CatalogFiles::index)) {
      return false;
    }
    catalog.embeddings = std::move(embeddings);
  } catch (const Error&) {
    return false;  // a damaged cache is rebuilt, not reported
  }
  return true;
}

void write_cache(const std::filesystem::path& dir, const nlohmann::json& inputs,
                 const CatalogEmbeddings& catalog) {
  std::filesystem::create_directories(dir);
  // Without a manifest the folder is never reused, so a build interrupted after this point
  // cannot pair new files with an old manifest.
  std::filesystem::remove(dir / CatalogFiles::manifest);
  nlohmann::json outputs = nlohmann::json::object();
  const auto write_output = [&](const char* name, const std::string& bytes) {
    write_file_atomically(dir / name, bytes);
    outputs[name] = bytes_hash(bytes);
  };
  write_output(CatalogFiles::ids, npy_i64_vector(catalog.ids));
  write_output(CatalogFiles::embeddings,
               npy_f32_matrix(catalog.embeddings, catalog.ids.size(), catalog.dim));
  std::string texts;
  for (const CatalogItem& item : catalog.items) texts += one_line(item.text) + '\n';
  write_output(CatalogFiles::texts, texts);
  ItemIndex index(catalog.dim);
  index.add(catalog.ids, catalog.embeddings);
  index.save(dir / CatalogFiles::index);
  const nlohmann::json manifest = {{"inputs", inputs},
                                   {"outputs", outputs},
                                   {"items", catalog.ids.size()},
                                   {"embed_seconds", catalog.embed_seconds}};
  write_file_atomically(dir / CatalogFiles::manifest, manifest.dump(2) + '\n');
}

}  // namespace

std::string catalog_manifest(const CatalogSource& source, const SequenceEncoder& encoder) {
  return manifest_json(source, encoder).dump(2);
}

bool catalog_cache_is_current(const CatalogSource& source, const SequenceEncoder& encoder,
                              const std::filesystem::path& cache_dir) {
  CatalogEmbeddings catalog;
  catalog.items = load_item_catalog(source.data_dir / "movies.csv", tags_file(source),
                                    {.max_tags = source.max_tags});
  catalog.dim = encoder.dim();
  for (const CatalogItem& item : catalog.items) catalog.ids.push_back(item.id);
  return read_cache(cache_dir, manifest_json(source, encoder), catalog);
}

CatalogEmbeddings load_or_build_catalog(const CatalogSource& source, const SequenceEncoder& encoder,
                                        const std::filesystem::path& cache_dir,
                                        const CatalogBuildOptions& options) {
  if (options.batch == 0) throw Error(ErrorCode::InvalidArgument, "batch must be positive");
  const nlohmann::json inputs = manifest_json(source, encoder);
  CatalogEmbeddings catalog;
  catalog.items = load_item_catalog(source.data_dir / "movies.csv", tags_file(source),
                                    {.max_tags = source.max_tags});
  if (catalog.items.empty()) {
    throw Error(ErrorCode::InvalidArgument,
                (source.data_dir / "movies.csv").string() + ": no items below the header");
  }
  catalog.dim = encoder.dim();
  catalog.ids.reserve(catalog.items.size());
  for (const CatalogItem& item : catalog.items) catalog.ids.push_back(item.id);

  if (!options.rebuild && read_cache(cache_dir, inputs, catalog)) {
    catalog.reused = true;
    if (!options.quiet) {
      std::fprintf(stderr, "%sreusing %zu cached item embeddings from %s\n",
                   options.log_prefix.c_str(), catalog.ids.size(), cache_dir.c_str());
    }
    return catalog;
  }

  const std::size_t n = catalog.items.size();
  if (!options.quiet) {
    std::fprintf(stderr, "%sembedding %zu item texts from %s (dim %zu), cached in %s\n",
                 options.log_prefix.c_str(), n, source.data_dir.c_str(), catalog.dim,
                 cache_dir.c_str());
  }
  catalog.embeddings.resize(n * catalog.dim);
  Progress progress(n);
  std::vector<std::string_view> batch;
  for (std::size_t first = 0; first < n; first += options.batch) {
    const std::size_t count = std::min(options.batch, n - first);
    batch.clear();
    for (std::size_t i = first; i < first + count; ++i) batch.push_back(catalog.items[i].text);
    encoder.encode(batch,
                   std::span(catalog.embeddings).subspan(first * catalog.dim, count * catalog.dim));
    if (!options.quiet) progress.update(first + count);
  }
  catalog.embed_seconds = progress.elapsed();
  write_cache(cache_dir, inputs, catalog);
  if (!options.quiet) {
    std::fprintf(stderr, "%sembedded %zu items in %.1f s (%.0f items/s)\n",
                 options.log_prefix.c_str(), n, catalog.embed_seconds,
                 double(n) / catalog.embed_seconds);
  }
  return catalog;
}

}  // namespace nowrec::cli
