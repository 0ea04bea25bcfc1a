// Umbrella header: the whole public API of nowrec.
#pragma once

#include "nowrec/co_visitation.hpp"
#include "nowrec/cpu_isa.hpp"
#include "nowrec/cuda_ranker.hpp"
#include "nowrec/device.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/limits.hpp"
#include "nowrec/model_folder.hpp"
#include "nowrec/ranker.hpp"
#include "nowrec/recommender.hpp"
#include "nowrec/safetensors.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "nowrec/tokenizer.hpp"
#include "nowrec/version.hpp"
