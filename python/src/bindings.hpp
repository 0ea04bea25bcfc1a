// The parts of the module, one function per group of classes (module.cpp calls them in order).
#pragma once

#include <nanobind/nanobind.h>

namespace nowrec::python {

namespace nb = nanobind;

void bind_errors(nb::module_& m);
void bind_text(nb::module_& m);          // ModelFolder, Tokenizer, SequenceEncoder
void bind_catalog(nb::module_& m);       // ItemIndex, Ranker
void bind_interests(nb::module_& m);     // InterestTracker, LearnedNextInterestModel
void bind_recommender(nb::module_& m);   // RecommenderConfig, Recommender
void bind_item_catalog(nb::module_& m);  // CatalogItem, load_item_catalog, item_text (eval/)

}  // namespace nowrec::python
