// nowrec::Error carries a code and a message, and is a std::runtime_error.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "nowrec/error.hpp"
#include "nowrec/version.hpp"

TEST_CASE("Error is a runtime_error with a code") {
  try {
    throw nowrec::Error(nowrec::ErrorCode::InvalidModel, "config.json: field 'hidden_size'");
  } catch (const std::runtime_error& error) {
    CHECK(std::string(error.what()) == "config.json: field 'hidden_size'");
    const auto* typed = dynamic_cast<const nowrec::Error*>(&error);
    REQUIRE(typed != nullptr);
    CHECK(typed->code() == nowrec::ErrorCode::InvalidModel);
  }
  CHECK(nowrec::error_code_name(nowrec::ErrorCode::DeviceUnavailable) == "DeviceUnavailable");
  CHECK(std::string(nowrec::version_string) ==
        std::to_string(NOWREC_VERSION_MAJOR) + "." + std::to_string(NOWREC_VERSION_MINOR) + "." +
            std::to_string(NOWREC_VERSION_PATCH));
}
