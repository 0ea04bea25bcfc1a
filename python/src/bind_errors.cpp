// nowrec.ErrorCode and the translation of C++ errors into nowrec.Error (a RuntimeError carrying
// the code).
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

  // The class is Python's (nowrec/_errors.py), so that type checkers and the stubs see it.
  nb::object error = nb::module_::import_("nowrec._errors").attr("Error");
  error_type = error.inc_ref().ptr();  // held for the translator, for the process's life
  m.attr("Error") = error;

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
