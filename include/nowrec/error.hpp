// nowrec::Error: the one exception type the library throws, with a machine-readable code.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nowrec {

enum class ErrorCode {
  InvalidArgument,    // a caller-supplied value is out of range or malformed
  InvalidModel,       // a model folder or one of its files breaks a rule
  InvalidFormat,      // a file of ours (snapshot, index) or a safetensors file is malformed
  Unsupported,        // a model option or architecture this build does not run
  NotFound,           // a file, tensor, token or id that was asked for does not exist
  Io,                 // the operating system refused an I/O operation
  DeviceUnavailable,  // CUDA was asked for but no usable device or CUDA build exists
  Internal,           // a broken invariant inside nowrec: please report it
};

// Name of an error code, e.g. "InvalidModel".
std::string_view error_code_name(ErrorCode code) noexcept;

// Thrown by every fallible nowrec call. what() names the file, field or argument at fault.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}

  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace nowrec
