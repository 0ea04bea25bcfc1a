// NumPy arrays in and out of the module: inputs are checked (dtype, layout, shape) and read in
// place; outputs take over a std::vector's buffer. Errors name the argument at fault.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nowrec::python {

namespace nb = nanobind;

// A read-only CPU array of any dtype, kept alive while its data is used.
using AnyArray = nb::ndarray<nb::ro, nb::device::cpu>;

// An input array viewed in place: `rows` x `columns` (columns 1 for a vector).
template <class T>
struct ArrayView {
  AnyArray array;  // holds the reference
  std::span<const T> values;
  std::size_t rows = 0;
  std::size_t columns = 0;
};

// A NumPy array argument of element type T: any object is accepted here (so that view_array can
// say what is wrong with it, naming the argument), and stubs show NDArray[numpy.<T>].
template <class T>
struct ArrayArg {
  nb::handle object;
};

// The argument `name` as a C-contiguous array of T with `dims` dimensions (1 or 2), without a
// copy. Throws TypeError for another type, dtype or layout and ValueError when `columns` (0: any)
// does not match the last dimension. A 1-d array given where 2 are asked for is one row.
template <class T>
ArrayView<T> view_array(nb::handle object, const char* name, std::size_t dims,
                        std::size_t columns = 0);

template <class T>
ArrayView<T> view_array(ArrayArg<T> arg, const char* name, std::size_t dims,
                        std::size_t columns = 0) {
  return view_array<T>(arg.object, name, dims, columns);
}

// A 1-d view of an optional argument: None (nullopt) gives an empty view.
template <class T>
ArrayView<T> view_optional_array(const std::optional<ArrayArg<T>>& arg, const char* name) {
  if (!arg || arg->object.is_none()) return {};
  return view_array<T>(arg->object, name, 1);
}

// A 1-d NumPy array holding a copy of `values` (for results the C++ object keeps).
template <class T>
nb::ndarray<nb::numpy, T> copy_to_numpy(const std::vector<T>& values);

// A NumPy array that owns `values` (moved, no copy), of the given shape.
template <class T>
nb::ndarray<nb::numpy, T> to_numpy(std::vector<T>&& values,
                                   std::initializer_list<std::size_t> shape) {
  auto* owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(owned->data(), shape, owner);
}

template <class T>
nb::ndarray<nb::numpy, T> copy_to_numpy(const std::vector<T>& values) {
  return to_numpy(std::vector<T>(values), {values.size()});
}

}  // namespace nowrec::python

namespace nanobind::detail {

#define NOWREC_ARRAY_ARG(T, NAME)                                      \
  template <>                                                          \
  struct type_caster<nowrec::python::ArrayArg<T>> {                    \
    NB_TYPE_CASTER(nowrec::python::ArrayArg<T>,                        \
                   const_name("numpy.typing.NDArray[numpy." NAME "]")) \
    bool from_python(handle src, uint8_t, cleanup_list*) noexcept {    \
      value.object = src;                                              \
      return true;                                                     \
    }                                                                  \
  };

NOWREC_ARRAY_ARG(float, "float32")
NOWREC_ARRAY_ARG(std::int64_t, "int64")
NOWREC_ARRAY_ARG(std::int32_t, "int32")
NOWREC_ARRAY_ARG(std::uint32_t, "uint32")
#undef NOWREC_ARRAY_ARG

}  // namespace nanobind::detail
