// LearnedNextInterestModel against PyTorch (tools/make_next_interest_fixture.py), its input rules,
// its errors, and the InterestTracker returning its prediction.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "encoder/npy_reader.hpp"
#include "interest/next_interest_config.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/next_interest_model.hpp"
#include "nowrec/safetensors.hpp"
#include "test_support.hpp"

using nowrec::ErrorCode;
using nowrec::LearnedNextInterestModel;
using nowrec::RecentEvent;

namespace {

std::filesystem::path fixture_dir() { return nowrec::test::fixtures_dir() / "next_interest"; }
std::filesystem::path model_dir() { return fixture_dir() / "model"; }

// Item embeddings by id, as a host application's catalog would hold them.
class MapItemStore final : public nowrec::ItemStore {
 public:
  MapItemStore(const std::vector<std::int64_t>& ids, const std::vector<float>& rows,
               std::size_t dim)
      : dim_(dim) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      rows_[ids[i]].assign(rows.begin() + static_cast<std::ptrdiff_t>(i * dim),
                           rows.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim));
    }
  }
  bool lookup(std::int64_t item, std::span<float> out) const override {
    const auto it = rows_.find(item);
    if (it == rows_.end()) return false;
    std::copy(it->second.begin(), it->second.end(), out.begin());
    return true;
  }
  std::size_t dim() const { return dim_; }

 private:
  std::size_t dim_;
  std::unordered_map<std::int64_t, std::vector<float>> rows_;
};

struct Fixture {
  nlohmann::json windows;
  std::vector<std::int64_t> item_ids;
  nowrec::test::NpyArray embeddings, predictions, item_vectors;
  std::size_t dim = 0;

  Fixture() {
    windows = nlohmann::json::parse(nowrec::test::read_file(fixture_dir() / "windows.json"));
    item_ids = windows["item_ids"].get<std::vector<std::int64_t>>();
    embeddings = nowrec::test::read_npy_f32(fixture_dir() / "item_embeddings.npy");
    predictions = nowrec::test::read_npy_f32(fixture_dir() / "predictions.npy");
    item_vectors = nowrec::test::read_npy_f32(fixture_dir() / "item_vectors.npy");
    dim = embeddings.shape.at(1);
  }
  MapItemStore store() const { return MapItemStore(item_ids, embeddings.values, dim); }
};

// A window's events; the strings live in `names` so the RecentEvents can point into them.
struct Window {
  std::vector<std::string> names;
  std::vector<RecentEvent> events;
};

Window window_events(const nlohmann::json& window) {
  Window result;
  result.names.reserve(window["events"].size());
  for (const auto& event : window["events"]) result.names.push_back(event["action"]);
  for (std::size_t i = 0; i < window["events"].size(); ++i) {
    const auto& event = window["events"][i];
    result.events.push_back({event["item"].get<std::int64_t>(),
                             event["timestamp"].get<std::int64_t>(), result.names[i]});
  }
  return result;
}

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  REQUIRE(a.size() == b.size());
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

void copy_folder(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

// Rewrites dir/model.safetensors keeping each tensor's dtype and bytes, after `edit` may drop
// (return false) or reshape a tensor (its bytes are then cut or zero-padded to the new shape).
// `patch`, when given, may then change a kept tensor's bytes (name, bytes).
void rewrite_weights(
    const std::filesystem::path& dir,
    const std::function<bool(std::string& name, std::vector<std::int64_t>& shape)>& edit,
    const std::function<void(const std::string& name, std::string& bytes)>& patch = {}) {
  const auto file = nowrec::SafetensorsFile::open(dir / "model.safetensors");
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const nowrec::TensorView& tensor : file.tensors()) {
    std::string name = tensor.name;
    std::vector<std::int64_t> shape = tensor.shape;
    if (!edit(name, shape)) continue;
    std::int64_t count = 1;
    for (std::int64_t d : shape) count *= d;
    std::string bytes(reinterpret_cast<const char*>(tensor.bytes.data()), tensor.bytes.size());
    bytes.resize(static_cast<std::size_t>(count) * nowrec::tensor_dtype_size(tensor.dtype), '\0');
    if (patch) patch(name, bytes);
    header[name] = {{"dtype", std::string(nowrec::tensor_dtype_name(tensor.dtype))},
                    {"shape", shape},
                    {"data_offsets", {data.size(), data.size() + bytes.size()}}};
    data += bytes;
  }
  const std::string text = header.dump();
  std::string image(8, '\0');
  for (int i = 0; i < 8; ++i) image[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
  nowrec::test::write_file(dir / "model.safetensors", image + text + data);
}

void edit_section(const std::filesystem::path& dir,
                  const std::function<void(nlohmann::json&)>& edit) {
  auto config = nlohmann::json::parse(nowrec::test::read_file(dir / "config.json"));
  edit(config["nowrec_next_interest"]);
  nowrec::test::write_file(dir / "config.json", config.dump(2));
}

void check_load_fails(const std::filesystem::path& dir, const MapItemStore& store, ErrorCode code,
                      std::vector<std::string> parts) {
  try {
    (void)LearnedNextInterestModel::load(dir, store, store.dim());
    FAIL("load succeeded");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == code);
    for (const std::string& part : parts) {
      CHECK_MESSAGE(std::string(error.what()).find(part) != std::string::npos,
                    error.what() << " lacks '" << part << "'");
    }
  }
}

}  // namespace

TEST_CASE("LearnedNextInterestModel predicts what PyTorch predicts") {
  const Fixture fixture;
  const MapItemStore store = fixture.store();
  const auto model =
      LearnedNextInterestModel::load(model_dir(), store, fixture.dim, {.threads = 1});
  CHECK(model.item_dim() == fixture.dim);
  CHECK(model.window() == 6);
  CHECK(model.prior_weight() == doctest::Approx(fixture.windows["prior_weight"].get<float>()));

  const auto& windows = fixture.windows["windows"];
  REQUIRE(fixture.predictions.shape.at(0) == windows.size());
  float worst = 0.0f;
  for (std::size_t w = 0; w < windows.size(); ++w) {
    CAPTURE(windows[w]["name"].get<std::string>());
    const Window window = window_events(windows[w]);
    std::vector<float> out(fixture.dim, 7.0f);
    const auto weight = model.predict("user", window.events, 0, out);
    REQUIRE(weight.has_value());
    CHECK(*weight == doctest::Approx(fixture.windows["prediction_weight"].get<float>()));
    const std::span<const float> expected(fixture.predictions.values.data() + w * fixture.dim,
                                          fixture.dim);
    const float diff = max_abs_diff(out, expected);
    CHECK(diff <= 1e-4f);
    worst = std::max(worst, diff);
  }
  MESSAGE("largest difference from PyTorch: " << worst);
}

TEST_CASE("LearnedNextInterestModel: item vectors match PyTorch and have unit length") {
  const Fixture fixture;
  const MapItemStore store = fixture.store();
  const auto model = LearnedNextInterestModel::load(model_dir(), store, fixture.dim);
  const std::vector<float> vectors = model.item_vectors(fixture.item_ids, fixture.embeddings.values);
  CHECK(max_abs_diff(vectors, fixture.item_vectors.values) <= 1e-5f);
  for (std::size_t r = 0; r < fixture.item_ids.size(); ++r) {
    double norm = 0.0;
    for (std::size_t j = 0; j < fixture.dim; ++j)
      norm += vectors[r * fixture.dim + j] * vectors[r * fixture.dim + j];
    CHECK(std::sqrt(norm) == doctest::Approx(1.0).epsilon(1e-5));
  }
  CHECK(model.item_vectors({}, {}).empty());
  std::vector<float> ragged(fixture.dim + 1, 0.1f);
  const std::vector<std::int64_t> one_id{fixture.item_ids[0]};
  CHECK_THROWS_WITH_AS(model.item_vectors(one_id, ragged), doctest::Contains("not a multiple"),
                       nowrec::Error);
  const std::vector<std::int64_t> two_ids{fixture.item_ids[0], fixture.item_ids[1]};
  std::vector<float> one_row(fixture.dim, 0.1f);
  CHECK_THROWS_WITH_AS(model.item_vectors(two_ids, one_row), doctest::Contains("2 item ids for 1"),
                       nowrec::Error);
  std::vector<float> bad(fixture.dim, 0.1f);
  bad[3] = std::nanf("");
  CHECK_THROWS_WITH_AS(model.item_vectors(one_id, bad), doctest::Contains("non-finite"),
                       nowrec::Error);
}

TEST_CASE("LearnedNextInterestModel: id embeddings shape the inputs and the item vectors") {
  const Fixture fixture;
  const MapItemStore store = fixture.store();
  const auto model = LearnedNextInterestModel::load(model_dir(), store, fixture.dim);
  const auto with_ids = fixture.windows["id_items"].get<std::vector<std::int64_t>>();
  CHECK(model.id_items() == with_ids.size());
  // Two items with the same text embedding: the one with an id gets another vector, the one
  // without gets the vector of its text alone, like an item the model never saw.
  const std::int64_t owner = with_ids[0];
  const std::int64_t plain = 100;  // no id row
  REQUIRE(std::find(with_ids.begin(), with_ids.end(), plain) == with_ids.end());
  const std::int64_t never_seen = 5000;
  const std::span<const float> text(fixture.embeddings.values.data(), fixture.dim);
  std::vector<float> same_text(text.begin(), text.end());
  same_text.insert(same_text.end(), text.begin(), text.end());
  same_text.insert(same_text.end(), text.begin(), text.end());
  const std::vector<std::int64_t> ids{owner, plain, never_seen};
  const std::vector<float> vectors = model.item_vectors(ids, same_text);
  const std::span<const float> v(vectors);
  CHECK(max_abs_diff(v.subspan(0, fixture.dim), v.subspan(fixture.dim, fixture.dim)) > 1e-3f);
  CHECK(max_abs_diff(v.subspan(fixture.dim, fixture.dim), v.subspan(2 * fixture.dim, fixture.dim)) ==
        0.0f);
}

TEST_CASE("LearnedNextInterestModel: nothing to predict, wrong out size, order matters") {
  const Fixture fixture;
  const MapItemStore store = fixture.store();
  const auto model = LearnedNextInterestModel::load(model_dir(), store, fixture.dim);
  std::vector<float> out(fixture.dim);
  CHECK_FALSE(model.predict("u", {}, 0, out).has_value());
  const std::int64_t unknown = fixture.windows["unknown_item"];
  const std::vector<RecentEvent> none_known{{unknown, 1, "like"}, {-1, 2, "view"}};
  CHECK_FALSE(model.predict("u", none_known, 0, out).has_value());

  std::vector<float> short_out(fixture.dim - 1);
  const std::vector<RecentEvent> one{{fixture.item_ids[0], 1, "like"}};
  CHECK_THROWS_WITH_AS(model.predict("u", one, 0, short_out), doctest::Contains("out holds"),
                       nowrec::Error);

  // A non-finite embedding from the store is refused with the item named.
  std::vector<float> broken = fixture.embeddings.values;
  broken[2 * fixture.dim + 5] = std::numeric_limits<float>::infinity();
  const MapItemStore broken_store(fixture.item_ids, broken, fixture.dim);
  const auto broken_model = LearnedNextInterestModel::load(model_dir(), broken_store, fixture.dim);
  const std::vector<RecentEvent> third{{fixture.item_ids[2], 1, "like"}};
  CHECK_THROWS_WITH_AS(broken_model.predict("u", third, 0, out),
                       doctest::Contains(("item " + std::to_string(fixture.item_ids[2])).c_str()),
                       nowrec::Error);

  // The prediction depends on the order of the window and on each event's action.
  const std::vector<RecentEvent> ab{{fixture.item_ids[0], 1, "like"},
                                    {fixture.item_ids[1], 2, "like"}};
  const std::vector<RecentEvent> ba{{fixture.item_ids[1], 1, "like"},
                                    {fixture.item_ids[0], 2, "like"}};
  const std::vector<RecentEvent> ab_view{{fixture.item_ids[0], 1, "like"},
                                         {fixture.item_ids[1], 2, "view"}};
  std::vector<float> p_ab(fixture.dim), p_ba(fixture.dim), p_view(fixture.dim);
  REQUIRE(model.predict("u", ab, 0, p_ab));
  REQUIRE(model.predict("u", ba, 0, p_ba));
  REQUIRE(model.predict("u", ab_view, 0, p_view));
  CHECK(max_abs_diff(p_ab, p_ba) > 1e-3f);
  CHECK(max_abs_diff(p_ab, p_view) > 1e-3f);
}

TEST_CASE("LearnedNextInterestModel: bad folders name the file and field") {
  const Fixture fixture;
  const MapItemStore store = fixture.store();
  using nowrec::test::TempDir;

  SUBCASE("missing folder") {
    TempDir dir;
    check_load_fails(dir.path() / "absent", store, ErrorCode::NotFound, {"absent"});
  }
  SUBCASE("item dim differs from the store's") {
    const MapItemStore narrow(fixture.item_ids, fixture.embeddings.values, fixture.dim);
    try {
      (void)LearnedNextInterestModel::load(model_dir(), narrow, fixture.dim + 8);
      FAIL("load succeeded");
    } catch (const nowrec::Error& error) {
      CHECK(error.code() == ErrorCode::InvalidArgument);
      CHECK(std::string(error.what()).find("text_dim") != std::string::npos);
    }
  }
  SUBCASE("missing tensor") {
    TempDir dir;
    copy_folder(model_dir(), dir.path() / "m");
    rewrite_weights(dir.path() / "m", [](std::string& name, std::vector<std::int64_t>&) {
      return name != "next_interest.gap_embeddings";
    });
    check_load_fails(dir.path() / "m", store, ErrorCode::InvalidModel,
                     {"model.safetensors", "next_interest.gap_embeddings", "missing", "[10, 16]"});
  }
  SUBCASE("missing item MLP tensor") {
    TempDir dir;
    copy_folder(model_dir(), dir.path() / "m");
    rewrite_weights(dir.path() / "m", [](std::string& name, std::vector<std::int64_t>&) {
      return name != "next_interest.item_mlp_out.bias";
    });
    check_load_fails(dir.path() / "m", store, ErrorCode::InvalidModel,
                     {"next_interest.item_mlp_out.bias", "missing"});
  }
  SUBCASE("misshapen tensor") {
    TempDir dir;
    copy_folder(model_dir(), dir.path() / "m");
    rewrite_weights(dir.path() / "m", [](std::string& name, std::vector<std::int64_t>& shape) {
      if (name == "next_interest.action_embeddings") shape = {2, 16};
      return true;
    });
    check_load_fails(dir.path() / "m", store, ErrorCode::InvalidModel,
                     {"next_interest.action_embeddings", "[2, 16]", "[3, 16]"});
  }
  SUBCASE("a BERT tensor missing") {
    TempDir dir;
    copy_folder(model_dir(), dir.path() / "m");
    rewrite_weights(dir.path() / "m", [](std::string& name, std::vector<std::int64_t>&) {
      return name != "encoder.layer.1.output.dense.weight";
    });
    check_load_fails(dir.path() / "m", store, ErrorCode::InvalidModel,
                     {"encoder.layer.1.output.dense.weight", "missing"});
  }
  struct ConfigCase {
    const char* field;
    nlohmann::json value;  // null: remove the field
    ErrorCode code;
    const char* says;
  };
  const ConfigCase cases[] = {
      {"window", 0, ErrorCode::InvalidModel, "nowrec_next_interest.window"},
      {"window", 7, ErrorCode::InvalidModel, "exceeds the 6 positions"},
      {"text_dim", nullptr, ErrorCode::InvalidModel, "nowrec_next_interest.text_dim"},
      {"item_space_dim", 25, ErrorCode::InvalidModel, "must not exceed text_dim"},
      {"actions", "like", ErrorCode::InvalidModel, "nowrec_next_interest.actions"},
      {"actions", nlohmann::json::array({"like", "like"}), ErrorCode::InvalidModel, "repeats"},
      {"actions", nlohmann::json::array({"like", ""}), ErrorCode::InvalidModel, "actions[1]"},
      {"gap_buckets", 1, ErrorCode::InvalidModel, "at least 2"},
      {"prediction_weight", -1, ErrorCode::InvalidModel, "prediction_weight"},
      {"prior_weight", "high", ErrorCode::InvalidModel, "prior_weight"},
      {"format_version", 3, ErrorCode::Unsupported, "format_version"},
      {"id_items", 12, ErrorCode::InvalidModel, "id_embeddings"},
      {"id_items", -1, ErrorCode::InvalidModel, "id_items"},
  };
  SUBCASE("malformed fields of the next-interest section") {
    for (const ConfigCase& c : cases) {
      CAPTURE(c.field);
      CAPTURE(c.value.dump());
      TempDir dir;
      copy_folder(model_dir(), dir.path() / "m");
      edit_section(dir.path() / "m", [&](nlohmann::json& section) {
        if (c.value.is_null()) {
          section.erase(c.field);
        } else {
          section[c.field] = c.value;
        }
      });
      check_load_fails(dir.path() / "m", store, c.code, {"config.json", c.says});
    }
  }
  SUBCASE("id embeddings: missing, wrong dtype, repeated item, non-zero 'no id' row") {
    TempDir dir;
    copy_folder(model_dir(), dir.path() / "a");
    rewrite_weights(dir.path() / "a", [](std::string& name, std::vector<std::int64_t>&) {
      return name != "next_interest.id_item_ids";
    });
    check_load_fails(dir.path() / "a", store, ErrorCode::InvalidModel,
                     {"next_interest.id_item_ids", "missing", "[11]"});
    copy_folder(model_dir(), dir.path() / "b");
    rewrite_weights(
        dir.path() / "b", [](std::string&, std::vector<std::int64_t>&) { return true; },
        [](const std::string& name, std::string& bytes) {
          // The second id row's item becomes the first's.
          if (name == "next_interest.id_item_ids") std::memcpy(&bytes[8], &bytes[0], 8);
        });
    check_load_fails(dir.path() / "b", store, ErrorCode::InvalidModel,
                     {"next_interest.id_item_ids", "repeats the item 112"});
    copy_folder(model_dir(), dir.path() / "c");
    rewrite_weights(
        dir.path() / "c", [](std::string&, std::vector<std::int64_t>&) { return true; },
        [](const std::string& name, std::string& bytes) {
          if (name == "next_interest.id_embeddings") bytes[1] = 0x3c;  // float16 1.0 in row 0
        });
    check_load_fails(dir.path() / "c", store, ErrorCode::InvalidModel,
                     {"next_interest.id_embeddings", "row 0"});
  }
  SUBCASE("id embeddings need the item space as wide as the hidden size") {
    TempDir dir;
    copy_folder(model_dir(), dir.path() / "m");
    edit_section(dir.path() / "m", [](nlohmann::json& section) { section["item_space_dim"] = 8; });
    check_load_fails(dir.path() / "m", store, ErrorCode::InvalidModel,
                     {"item_space_dim", "hidden size (16)"});
  }
  SUBCASE("no next-interest section") {
    TempDir dir;
    copy_folder(model_dir(), dir.path() / "m");
    auto config = nlohmann::json::parse(nowrec::test::read_file(dir.path() / "m" / "config.json"));
    config.erase("nowrec_next_interest");
    nowrec::test::write_file(dir.path() / "m" / "config.json", config.dump());
    check_load_fails(dir.path() / "m", store, ErrorCode::InvalidModel,
                     {"config.json", "nowrec_next_interest"});
  }
  SUBCASE("pooling other than the last token") {
    TempDir dir;
    copy_folder(model_dir(), dir.path() / "m");
    nowrec::test::write_file(dir.path() / "m" / "1_Pooling" / "config.json",
                             R"({"pooling_mode_mean_tokens": true})");
    check_load_fails(dir.path() / "m", store, ErrorCode::InvalidModel,
                     {"1_Pooling", "last token", "mean"});
  }
}

TEST_CASE("InterestTracker returns the learned model's prediction on the user's window") {
  const Fixture fixture;
  const MapItemStore store = fixture.store();
  const auto model =
      LearnedNextInterestModel::load(model_dir(), store, fixture.dim, {.threads = 1});
  nowrec::InterestTracker tracker({.dim = fixture.dim,
                                   .recent_window = 8,
                                   .item_store = &store,
                                   .next_interest_model = &model});
  const char* actions[] = {"like", "view", "click"};
  for (int i = 0; i < 11; ++i) {
    tracker.update(
        {.user = "ann",
         .timestamp = 1000 + 37 * i * i,
         .item = fixture.item_ids[static_cast<std::size_t>(i * 7) % fixture.item_ids.size()],
         .action = actions[i % 3]});
  }
  const std::int64_t now = 10000;
  const auto interests = tracker.interests("ann", now);
  const auto predicted = std::find_if(interests.begin(), interests.end(), [](const auto& interest) {
    return interest.kind == nowrec::InterestKind::Predicted;
  });
  REQUIRE(predicted != interests.end());
  const auto recent = tracker.recent_events("ann");
  REQUIRE(recent.size() == 8);
  std::vector<float> expected(fixture.dim);
  const auto weight = model.predict("ann", recent, now, expected);
  REQUIRE(weight.has_value());
  CHECK(predicted->weight == *weight);
  CHECK(max_abs_diff(predicted->vector, expected) <= 1e-6f);
  // The window the tracker hands over is the last 8 events, so the 6 the model reads are the
  // last 6 updates: a different history with the same tail predicts the same.
  std::vector<float> tail(fixture.dim);
  REQUIRE(model.predict("ann", std::span(recent).subspan(2), now, tail));
  CHECK(max_abs_diff(tail, expected) == 0.0f);

  // A user whose items the store does not know gets no prediction.
  const std::int64_t unknown = fixture.windows["unknown_item"];
  tracker.update(
      {.user = "bob",
       .item_embedding = std::span<const float>(fixture.embeddings.values.data(), fixture.dim),
       .timestamp = 5,
       .item = unknown,
       .action = "like"});
  for (const auto& interest : tracker.interests("bob", 10)) {
    CHECK(interest.kind != nowrec::InterestKind::Predicted);
  }
}

TEST_CASE("time-gap buckets: 1 + floor(log2(gap + 1)), capped, negative gaps as 0") {
  using nowrec::interest::gap_bucket;
  CHECK(gap_bucket(100, 100, 32) == 1);
  CHECK(gap_bucket(100, 101, 32) == 2);
  CHECK(gap_bucket(100, 102, 32) == 2);
  CHECK(gap_bucket(100, 103, 32) == 3);
  CHECK(gap_bucket(0, 86400, 32) == 17);
  CHECK(gap_bucket(100, 40, 32) == 1);
  CHECK(gap_bucket(0, std::int64_t{1} << 40, 32) == 31);
  CHECK(gap_bucket(std::numeric_limits<std::int64_t>::min(),
                   std::numeric_limits<std::int64_t>::max(), 100) == 64);
  CHECK(gap_bucket(0, 5, 2) == 1);
}
