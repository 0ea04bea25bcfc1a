// Python floats (doubles) into the library's float32 fields. A plain cast would turn 1e39 into
// inf, reported later as "not finite" although the value given was finite, and 1e-300 into 0,
// applied without a word; both are refused here, naming the field.
#pragma once

#include <nanobind/nanobind.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>

namespace nowrec::python {

namespace nb = nanobind;

// `value` as a float32. NaN and infinities pass through (the library reports them as not
// finite); a finite value beyond float32's largest, or a nonzero one that would round to 0,
// raises ValueError naming `name`.
inline float to_float32(double value, const std::string& name) {
  // Checked before the cast: converting a double out of float's range is undefined behaviour.
  const bool too_large =
      std::isfinite(value) && std::abs(value) > double(std::numeric_limits<float>::max());
  const float narrowed = too_large ? 0.0f : static_cast<float>(value);
  if (too_large || (narrowed == 0.0f && value != 0.0)) {
    const std::string text = nb::str(nb::float_(value)).c_str();
    throw nb::value_error((name + " = " + text + " is outside float32's range").c_str());
  }
  return narrowed;
}

inline std::optional<float> to_float32(const std::optional<double>& value,
                                       const std::string& name) {
  if (!value) return std::nullopt;
  return to_float32(*value, name);
}

}  // namespace nowrec::python
