// Checking NumPy inputs: dtype, C-contiguous layout and shape, with the argument named.
#include "arrays.hpp"

#include <nanobind/stl/string.h>

#include <string>

namespace nowrec::python {
namespace {

template <class T>
const char* dtype_text() {
  if constexpr (std::is_same_v<T, float>) return "float32";
  if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
  if constexpr (std::is_same_v<T, std::int32_t>) return "int32";
  if constexpr (std::is_same_v<T, std::uint32_t>) return "uint32";
  return "?";
}

[[noreturn]] void type_error(const std::string& message) { throw nb::type_error(message.c_str()); }

[[noreturn]] void value_error(const std::string& message) {
  throw nb::value_error(message.c_str());
}

// An empty array has no layout to speak of (NumPy gives it stride 0).
bool c_contiguous(const AnyArray& array) {
  for (std::size_t d = 0; d < array.ndim(); ++d) {
    if (array.shape(d) == 0) return true;
  }
  std::int64_t expected = 1;
  for (std::size_t d = array.ndim(); d-- > 0;) {
    if (array.shape(d) > 1 && array.stride(d) != expected) return false;
    expected *= std::int64_t(array.shape(d));
  }
  return true;
}

// What a NumPy array of the other byte order is, e.g. "a big-endian float32 array"; empty for
// anything else. nanobind imports native byte order only, so such an array fails the import and
// would otherwise be reported as just "got ndarray".
std::string swapped_array(nb::handle object) {
  const nb::object dtype = nb::getattr(object, "dtype", nb::none());
  if (!nb::getattr(dtype, "isnative", nb::none()).is(nb::handle(Py_False))) return {};
  std::string order, type;
  if (!nb::try_cast(nb::getattr(dtype, "byteorder", nb::none()), order) ||
      !nb::try_cast(nb::getattr(dtype, "name", nb::none()), type)) {
    return {};
  }
  return "a " + std::string(order == ">" ? "big" : "little") + "-endian " + type + " array";
}

}  // namespace

template <class T>
ArrayView<T> view_array(nb::handle object, const char* name, std::size_t dims,
                        std::size_t columns) {
  ArrayView<T> view;
  if (!nb::try_cast(object, view.array, false)) {
    if (const std::string swapped = swapped_array(object); !swapped.empty()) {
      type_error(std::string(name) + " must be a numpy array of " + dtype_text<T>() +
                 " in native byte order, got " + swapped + " (convert with .astype(numpy." +
                 dtype_text<T>() + "))");
    }
    type_error(std::string(name) + " must be a numpy array of " + dtype_text<T>() + ", got " +
               nb::cast<std::string>(nb::type_name(object.type())));
  }
  const AnyArray& a = view.array;
  if (a.dtype() != nb::dtype<T>()) {
    type_error(std::string(name) + " must have dtype " + dtype_text<T>() +
               " (convert with .astype(numpy." + dtype_text<T>() + "))");
  }
  if (!c_contiguous(a)) {
    type_error(std::string(name) +
               " must be C-contiguous (numpy.ascontiguousarray makes a contiguous copy)");
  }
  if (a.ndim() == 0 || a.ndim() > dims) {
    value_error(std::string(name) + " must have " +
                (dims == 1 ? "1 dimension" : "1 or 2 dimensions") + ", got " +
                std::to_string(a.ndim()));
  }
  if (a.ndim() == 1) {
    view.rows = dims == 1 ? a.shape(0) : 1;
    view.columns = dims == 1 ? 1 : a.shape(0);
  } else {
    view.rows = a.shape(0);
    view.columns = a.shape(1);
  }
  if (columns != 0 && dims == 2 && view.columns != columns) {
    value_error(std::string(name) + " has rows of " + std::to_string(view.columns) +
                " values, expected " + std::to_string(columns));
  }
  view.values = std::span<const T>(static_cast<const T*>(a.data()), view.rows * view.columns);
  return view;
}

template ArrayView<float> view_array<float>(nb::handle, const char*, std::size_t, std::size_t);
template ArrayView<std::int64_t> view_array<std::int64_t>(nb::handle, const char*, std::size_t,
                                                          std::size_t);
template ArrayView<std::int32_t> view_array<std::int32_t>(nb::handle, const char*, std::size_t,
                                                          std::size_t);
template ArrayView<std::uint32_t> view_array<std::uint32_t>(nb::handle, const char*, std::size_t,
                                                            std::size_t);

}  // namespace nowrec::python
