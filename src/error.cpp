// Names of error codes.
#include "nowrec/error.hpp"

namespace nowrec {

std::string_view error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::InvalidModel: return "InvalidModel";
    case ErrorCode::InvalidFormat: return "InvalidFormat";
    case ErrorCode::Unsupported: return "Unsupported";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::Io: return "Io";
    case ErrorCode::DeviceUnavailable: return "DeviceUnavailable";
    case ErrorCode::Internal: return "Internal";
  }
  return "Unknown";
}

}  // namespace nowrec
