// nowrec.Error (a RuntimeError carrying a nowrec.ErrorCode) and the translation of C++ errors.
#include <nanobind/nanobind.h>

#include "bindings.hpp"
#include "nowrec/error.hpp"

namespace nowrec::python {
namespace {

PyObject* error_type = nullptr;

}  // namespace

void bind_errors(nb::module_& m) {
  nb::enum_<ErrorCode>(m, "ErrorCode", "What kind of failure a nowrec.Error reports.")
      .value("InvalidArgument", ErrorCode::InvalidArgument,
             "a caller-supplied value is out of range or malformed")
      .value("InvalidModel", ErrorCode::InvalidModel,
             "a model folder or one of its files breaks a rule")
      .value("InvalidFormat", ErrorCode::InvalidFormat,
             "a file of ours (snapshot, index) or a safetensors file is malformed")
      .value("Unsupported", ErrorCode::Unsupported,
             "a model option or architecture this build does not run")
      .value("NotFound", ErrorCode::NotFound,
             "a file, tensor, token or id that was asked for does not exist")
      .value("Io", ErrorCode::Io, "the operating system refused an I/O operation")
      .value("DeviceUnavailable", ErrorCode::DeviceUnavailable,
             "CUDA was asked for but no usable device or CUDA build exists")
      .value("Internal", ErrorCode::Internal, "a broken invariant inside nowrec");

  error_type = PyErr_NewExceptionWithDoc(
      "nowrec.Error",
      "Raised by every fallible nowrec call. str(e) names the file, field or argument at fault;\n"
      "e.code is the nowrec.ErrorCode.",
      PyExc_RuntimeError, nullptr);
  m.attr("Error") = nb::handle(error_type);

  nb::register_exception_translator([](const std::exception_ptr& thrown, void*) {
    try {
      std::rethrow_exception(thrown);
    } catch (const Error& e) {
      nb::object error = nb::handle(error_type)(e.what());
      error.attr("code") = nb::cast(e.code());
      PyErr_SetObject(error_type, error.ptr());
    }
  });
}

}  // namespace nowrec::python
