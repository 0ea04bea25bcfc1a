// nowrec._nowrec: the Python module over the C++ library (imported through the nowrec package).
#include <nanobind/nanobind.h>

#include "bindings.hpp"
#include "nowrec/nowrec.hpp"

NB_MODULE(_nowrec, m) {
  m.doc() = "nowrec: real-time user-interest capture with language models";
  m.attr("version_string") = nowrec::version_string;
  nowrec::python::bind_errors(m);
  nowrec::python::bind_text(m);
  nowrec::python::bind_catalog(m);
  nowrec::python::bind_interests(m);
  nowrec::python::bind_recommender(m);
  nowrec::python::bind_item_catalog(m);
}
