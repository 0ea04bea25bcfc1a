// InterestTracker (one event, or a batch from arrays, applied without the GIL) and the learned
// next-interest model.
#include <nanobind/nanobind.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "float32.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "tracker_handle.hpp"

namespace nowrec::python {
namespace {

std::string repr_of(nb::handle object) { return nb::cast<std::string>(nb::repr(object)); }

// Action weights from {"click": 1.0, "rate": (-1.4, 0.5), ...}: weight, or (weight, value_weight).
// Anything else raises TypeError naming the action.
std::vector<ActionWeight> action_weights(const nb::dict& actions) {
  constexpr const char* expected = "a number or a (weight, value_weight) tuple of two numbers";
  std::vector<ActionWeight> out;
  for (const auto& entry : actions) {
    const nb::handle key = entry.first, value = entry.second;  // named, so the lambda can capture
    if (!nb::isinstance<nb::str>(key)) {
      throw nb::type_error(("actions: the action " + repr_of(key) +
                            " must be named by a str, got " +
                            nb::cast<std::string>(nb::type_name(key.type())))
                               .c_str());
    }
    ActionWeight action{.name = nb::cast<std::string>(key)};
    const std::string field = "actions[" + repr_of(key) + "]";
    const auto wrong = [&]() {
      return nb::type_error((field + " must be " + expected + ", got " + repr_of(value)).c_str());
    };
    double weight = 0.0;
    if (nb::isinstance<nb::tuple>(value)) {
      const nb::tuple pair = nb::borrow<nb::tuple>(value);
      double value_weight = 0.0;
      if (pair.size() != 2 || !nb::try_cast(pair[0], weight) ||
          !nb::try_cast(pair[1], value_weight)) {
        throw wrong();
      }
      action.weight = to_float32(weight, field + " weight");
      action.value_weight = to_float32(value_weight, field + " value_weight");
    } else {
      if (!nb::try_cast(value, weight)) throw wrong();
      action.weight = to_float32(weight, field);
    }
    out.push_back(std::move(action));
  }
  return out;
}

const char* kind_name(InterestKind kind) {
  switch (kind) {
    case InterestKind::ShortTerm:
      return "short_term";
    case InterestKind::LongTerm:
      return "long_term";
    case InterestKind::Cluster:
      return "cluster";
    case InterestKind::Predicted:
      return "predicted";
    case InterestKind::Negative:
      return "negative";
  }
  return "?";
}

// Applies make_event(i) for every i through the tracker's batched update, a few thousand events
// at a time. Every good event is applied; with raise_on_rejected, a rejected one then raises,
// naming the first.
template <class MakeEvent>
std::size_t apply_batch(InterestTracker& tracker, std::size_t count, bool raise_on_rejected,
                        MakeEvent make_event) {
  constexpr std::size_t kEventsPerCall = 4096;
  std::vector<InterestEvent> events;
  events.reserve(std::min(count, kEventsPerCall));
  BatchUpdateResult total;
  for (std::size_t begin = 0; begin < count; begin += kEventsPerCall) {
    const std::size_t end = std::min(count, begin + kEventsPerCall);
    events.clear();
    for (std::size_t i = begin; i < end; ++i) events.push_back(make_event(i));
    BatchUpdateResult part = tracker.update(events);
    total.applied += part.applied;
    total.duplicates += part.duplicates;
    if (part.rejected > 0 && total.rejected == 0) {
      total.first_rejected = begin + part.first_rejected;
      total.first_error = std::move(part.first_error);
    }
    total.rejected += part.rejected;
  }
  if (raise_on_rejected && total.rejected > 0) {
    throw Error(ErrorCode::InvalidArgument,
                "update_batch: event " + std::to_string(total.first_rejected) + ": " +
                    total.first_error + " (" + std::to_string(total.rejected) + " of " +
                    std::to_string(count) + " events rejected; every other event was applied)");
  }
  return total.applied;
}

}  // namespace

void bind_interests(nb::module_& m) {
  nb::enum_<InterestKind>(m, "InterestKind")
      .value("ShortTerm", InterestKind::ShortTerm)
      .value("LongTerm", InterestKind::LongTerm)
      .value("Cluster", InterestKind::Cluster)
      .value("Predicted", InterestKind::Predicted)
      .value("Negative", InterestKind::Negative);
  nb::enum_<StateDtype>(m, "StateDtype", "How per-user vectors are stored.")
      .value("F32", StateDtype::F32)
      .value("BF16", StateDtype::BF16);

  nb::class_<Interest>(m, "Interest", "One of a user's interests, decayed to the query time.")
      .def_ro("kind", &Interest::kind)
      .def_ro("weight", &Interest::weight, "The decayed sum of the action weights behind it.")
      .def_prop_ro(
          "vector", [](const Interest& i) { return copy_to_numpy(i.vector); }, nb::rv_policy::move,
          "Unit length (zero when nothing is left), float32.")
      .def("__repr__", [](const Interest& i) {
        return std::string("Interest(") + kind_name(i.kind) +
               ", weight=" + std::to_string(i.weight) + ")";
      });

  nb::class_<UserStats>(m, "UserStats")
      .def_ro("events", &UserStats::events)
      .def_ro("first_timestamp", &UserStats::first_timestamp)
      .def_ro("last_timestamp", &UserStats::last_timestamp)
      .def_ro("interests", &UserStats::interests)
      .def_ro("last_sequence", &UserStats::last_sequence)
      .def_ro("memory_bytes", &UserStats::memory_bytes);
  nb::class_<TrackerStats>(m, "TrackerStats")
      .def_ro("users", &TrackerStats::users)
      .def_ro("events_applied", &TrackerStats::events_applied)
      .def_ro("events_rejected", &TrackerStats::events_rejected)
      .def_ro("events_duplicate", &TrackerStats::events_duplicate)
      .def_ro("users_evicted", &TrackerStats::users_evicted)
      .def_ro("users_expired", &TrackerStats::users_expired)
      .def_ro("users_forgotten", &TrackerStats::users_forgotten)
      .def_ro("memory_bytes", &TrackerStats::memory_bytes)
      .def_ro("mapped_state_bytes", &TrackerStats::mapped_state_bytes);

  nb::class_<ModelHandle>(
      m, "LearnedNextInterestModel",
      "The trained next-interest transformer (examples/models/...): predicts a user's next "
      "interest from the recent window. Give it to InterestTracker(next_interest_model=...).")
      .def_static(
          "load",
          [](const std::filesystem::path& folder, const ItemIndex& items, int threads) {
            auto handle = std::make_unique<ModelHandle>();
            handle->store = std::make_unique<ItemIndexStore>(items);
            nb::gil_scoped_release release;
            handle->model.emplace(LearnedNextInterestModel::load(
                folder, *handle->store, items.dim(), {.threads = threads}));
            return handle;
          },
          nb::arg("folder"), nb::arg("items"), nb::arg("threads") = 1, nb::keep_alive<0, 2>(),
          "Loads a model folder; `items` is the ItemIndex of the items' text embeddings it reads "
          "the window's items from.")
      .def(
          "item_vectors",
          [](const ModelHandle& h, ArrayArg<std::int64_t> ids, ArrayArg<float> text_embeddings) {
            const auto id_view = view_array<std::int64_t>(ids, "ids", 1);
            const auto text =
                view_array<float>(text_embeddings, "text_embeddings", 2, h.model->item_dim());
            std::vector<float> out;
            {
              nb::gil_scoped_release release;
              out = h.model->item_vectors(id_view.values, text.values);
            }
            const std::size_t dim = h.model->item_dim();
            return to_numpy(std::move(out), {id_view.rows, dim});
          },
          nb::arg("ids"), nb::arg("text_embeddings"),
          "The vectors predictions are scored against, one unit row per item: fill the ranking "
          "ItemIndex with them.")
      .def_prop_ro("item_dim", [](const ModelHandle& h) { return h.model->item_dim(); })
      .def_prop_ro("window", [](const ModelHandle& h) { return h.model->window(); })
      .def_prop_ro("id_items", [](const ModelHandle& h) { return h.model->id_items(); })
      .def_prop_ro("prior_weight", [](const ModelHandle& h) { return h.model->prior_weight(); });

  nb::class_<TrackerHandle>(
      m, "InterestTracker",
      "Per-user streaming interests updated on every event: short-term, long-term, up to "
      "max_interests clusters, negative feedback, the learned prediction and a window of recent "
      "events. Every method may be called from any thread; updates release the GIL.")
      .def(
          "__init__",
          [](TrackerHandle* self, std::size_t dim, const ItemIndex* item_store,
             const SequenceEncoder* encoder, const ModelHandle* next_interest_model,
             double short_term_half_life_seconds, double long_term_half_life_seconds,
             double interest_half_life_seconds, double negative_half_life_seconds,
             std::size_t max_interests, double join_min_cosine, std::size_t recent_window,
             std::optional<nb::dict> actions, std::int64_t allowed_lateness_seconds,
             StateDtype dtype, std::size_t max_memory_bytes, std::int64_t ttl_seconds,
             std::size_t shards, std::optional<nb::bytes> user_id_key, std::size_t expected_users) {
            new (self) TrackerHandle();
            InterestTrackerOptions o;
            o.dim = dim;
            o.short_term_half_life_seconds = short_term_half_life_seconds;
            o.long_term_half_life_seconds = long_term_half_life_seconds;
            o.interest_half_life_seconds = interest_half_life_seconds;
            o.negative_half_life_seconds = negative_half_life_seconds;
            o.max_interests = max_interests;
            o.join_min_cosine = to_float32(join_min_cosine, "join_min_cosine");
            o.recent_window = recent_window;
            if (actions) o.actions = action_weights(*actions);
            o.allowed_lateness_seconds = allowed_lateness_seconds;
            o.dtype = dtype;
            o.max_memory_bytes = max_memory_bytes;
            o.ttl_seconds = ttl_seconds;
            o.shards = shards;
            o.expected_users = expected_users;
            if (user_id_key) o.user_id_key.assign(user_id_key->c_str(), user_id_key->size());
            if (item_store != nullptr) {
              self->store = std::make_unique<ItemIndexStore>(*item_store);
              o.item_store = self->store.get();
            }
            o.encoder = encoder;
            if (next_interest_model != nullptr) {
              o.next_interest_model = &*next_interest_model->model;
            }
            self->tracker = std::make_unique<InterestTracker>(o);
          },
          nb::arg("dim"), nb::kw_only(), nb::arg("item_store").none() = nb::none(),
          nb::arg("encoder").none() = nb::none(),
          nb::arg("next_interest_model").none() = nb::none(),
          nb::arg("short_term_half_life_seconds") = 1800.0,
          nb::arg("long_term_half_life_seconds") = 30 * 86400.0,
          nb::arg("interest_half_life_seconds") = 7 * 86400.0,
          nb::arg("negative_half_life_seconds") = 86400.0, nb::arg("max_interests") = 4,
          nb::arg("join_min_cosine") = 0.5, nb::arg("recent_window") = 50,
          nb::arg("actions").none() = nb::none(), nb::arg("allowed_lateness_seconds") = 0,
          nb::arg("dtype") = StateDtype::F32, nb::arg("max_memory_bytes") = 0,
          nb::arg("ttl_seconds") = 0, nb::arg("shards") = 64,
          nb::arg("user_id_key").none() = nb::none(), nb::arg("expected_users") = 0,
          nb::keep_alive<1, 3>(), nb::keep_alive<1, 4>(), nb::keep_alive<1, 5>(),
          "item_store: an ItemIndex of item embeddings for events that name only an item; "
          "encoder: a SequenceEncoder for text events; actions: {name: weight} or {name: "
          "(weight, value_weight)} (default: view 0.5, click 1, like 2, add_to_cart 3, purchase "
          "5, share 3, search 4, skip -0.5, dislike -2); user_id_key: 16 secret bytes to keep "
          "users under a keyed hash of their id; expected_users: size the tables for this many "
          "users up front. Raises nowrec.Error (InvalidArgument) naming "
          "the option at fault.")
      .def(
          "update",
          [](TrackerHandle& h, std::string user, std::int64_t timestamp, std::int64_t item,
             std::optional<ArrayArg<float>> embedding, std::string action, double weight,
             std::optional<double> value, std::optional<std::string> text, std::uint64_t sequence) {
            const auto vector = view_optional_array<float>(embedding, "embedding");
            const InterestEvent event = event_of(user, timestamp, item, vector.values, action,
                                                 weight, value, text, sequence);
            nb::gil_scoped_release release;
            return h.tracker->update(event);
          },
          nb::arg("user"), nb::arg("timestamp"), nb::kw_only(), nb::arg("item") = -1,
          nb::arg("embedding").none() = nb::none(), nb::arg("action") = "", nb::arg("weight") = 1.0,
          nb::arg("value").none() = nb::none(), nb::arg("text").none() = nb::none(),
          nb::arg("sequence") = 0,
          "Applies one event: an item (looked up in item_store unless embedding is given), a "
          "text, or both. Returns False, changing nothing, for a sequence already applied. "
          "Raises nowrec.Error (InvalidArgument) for an unknown item or action, a wrong-size or "
          "non-finite embedding, or an event older than the allowed lateness; nothing changes "
          "then.")
      .def(
          "update_batch",
          [](TrackerHandle& h, const std::vector<std::string>& users,
             ArrayArg<std::int64_t> timestamps, std::optional<ArrayArg<std::int64_t>> items,
             std::optional<std::variant<std::string, std::vector<std::string>>> actions,
             std::optional<ArrayArg<float>> values, std::optional<ArrayArg<float>> weights,
             std::optional<ArrayArg<float>> embeddings, const std::string& on_error) {
            const std::size_t n = users.size();
            const auto times = view_array<std::int64_t>(timestamps, "timestamps", 1);
            const auto item_ids = view_optional_array<std::int64_t>(items, "items");
            const auto value_view = view_optional_array<float>(values, "values");
            const auto weight_view = view_optional_array<float>(weights, "weights");
            ArrayView<float> vectors;
            if (embeddings) {
              vectors = view_array<float>(*embeddings, "embeddings", 2, h.tracker->options().dim);
            }
            // A list gives each event its action, so it must have one per user, even when
            // empty (n users with an empty list is a wrong length, not "no actions").
            const bool action_per_event =
                actions && std::holds_alternative<std::vector<std::string>>(*actions);
            std::vector<std::string> action_list;
            std::string one_action;
            if (action_per_event) {
              action_list = std::move(std::get<std::vector<std::string>>(*actions));
            } else if (actions) {
              one_action = std::get<std::string>(*actions);
            }
            const auto check = [n](std::size_t size, const char* name, bool given) {
              if (given && size != n) {
                throw nb::value_error((std::string(name) + " has " + std::to_string(size) +
                                       " entries for " + std::to_string(n) + " users")
                                          .c_str());
              }
            };
            check(times.rows, "timestamps", true);
            check(item_ids.rows, "items", items.has_value());
            check(value_view.rows, "values", values.has_value());
            check(weight_view.rows, "weights", weights.has_value());
            check(action_list.size(), "actions", action_per_event);
            check(vectors.rows, "embeddings", embeddings.has_value());
            if (!items && !embeddings) {
              throw nb::value_error("update_batch needs items, embeddings or both");
            }
            if (on_error != "raise" && on_error != "skip") {
              throw nb::value_error(
                  ("on_error must be 'raise' or 'skip', got '" + on_error + "'").c_str());
            }
            const std::size_t dim = h.tracker->options().dim;
            nb::gil_scoped_release release;
            return apply_batch(*h.tracker, n, on_error == "raise", [&](std::size_t i) {
              InterestEvent event{.user = users[i], .timestamp = times.values[i]};
              if (!item_ids.values.empty()) event.item = item_ids.values[i];
              if (!vectors.values.empty())
                event.item_embedding = vectors.values.subspan(i * dim, dim);
              if (!weight_view.values.empty()) event.weight = weight_view.values[i];
              if (!value_view.values.empty()) event.value = value_view.values[i];
              event.action = action_per_event ? std::string_view(action_list[i])
                                              : std::string_view(one_action);
              return event;
            });
          },
          nb::arg("users"), nb::arg("timestamps"), nb::kw_only(),
          nb::arg("items").none() = nb::none(), nb::arg("actions").none() = nb::none(),
          nb::arg("values").none() = nb::none(), nb::arg("weights").none() = nb::none(),
          nb::arg("embeddings").none() = nb::none(), nb::arg("on_error") = "raise",
          "Applies many events without the GIL, each user's in order, as update() would one by "
          "one: users a list of str, timestamps int64, items int64 and/or embeddings float32 "
          "(n, dim), actions one str or a list, values and weights float32. Returns how many "
          "were applied (the rest were duplicates or rejected; stats() counts both). Every good "
          "event is applied; a bad one is skipped, and then, with on_error='raise', "
          "nowrec.Error names the first bad event's position and how many were rejected; "
          "on_error='skip' only counts them.")
      .def(
          "interests",
          [](const TrackerHandle& h, std::string user, std::int64_t now) {
            nb::gil_scoped_release release;
            return h.tracker->interests(user, now);
          },
          nb::arg("user"), nb::arg("now"),
          "The user's interests decayed to `now`: short-term, long-term, clusters (most important "
          "first), the prediction when a model is set, and the negative one. Empty for an unknown "
          "user.")
      .def(
          "recent_events",
          [](const TrackerHandle& h, std::string user) {
            std::vector<std::tuple<std::int64_t, std::int64_t, std::string>> out;
            for (const RecentEvent& e : h.tracker->recent_events(user)) {
              out.emplace_back(e.item, e.timestamp, std::string(e.action));
            }
            return out;
          },
          nb::arg("user"), "The user's window, oldest first: (item, timestamp, action) tuples.")
      .def(
          "user_stats",
          [](const TrackerHandle& h, std::string user) { return h.tracker->user_stats(user); },
          nb::arg("user"))
      .def("stats", [](const TrackerHandle& h) { return h.tracker->stats(); })
      .def("__len__", [](const TrackerHandle& h) { return h.tracker->user_count(); })
      .def(
          "forget", [](TrackerHandle& h, std::string user) { return h.tracker->forget(user); },
          nb::arg("user"),
          "Removes everything held for the user (zeroed before being freed); False for an "
          "unknown user.")
      .def(
          "expire", [](TrackerHandle& h, std::int64_t now) { return h.tracker->expire(now); },
          nb::arg("now"))
      .def(
          "snapshot",
          [](const TrackerHandle& h, const std::filesystem::path& path, std::uint64_t watermark) {
            nb::gil_scoped_release release;
            h.tracker->snapshot(path, watermark);
          },
          nb::arg("path"), nb::arg("watermark") = 0,
          "Writes every user atomically with the caller's watermark (the stream offset covered).")
      .def(
          "restore",
          [](TrackerHandle& h, const std::filesystem::path& path) {
            nb::gil_scoped_release release;
            return h.tracker->restore(path);
          },
          nb::arg("path"),
          "Replaces every user with the snapshot's and returns its watermark. Raises "
          "nowrec.Error (Io, InvalidFormat) with the live state untouched.")
      .def_prop_ro("dim", [](const TrackerHandle& h) { return h.tracker->options().dim; });
}

}  // namespace nowrec::python
