#pragma once
// Opens any checkpoint `convert` reads (every format, every naming
// convention) as a CanonicalModel: detect the format, read it, find the
// model config, detect the convention, re-lay it out into canonical names.
#include <filesystem>

#include "converters/format.hpp"
#include "converters/relayout/layout_pipeline.hpp"
#include "schema/canonical_model.hpp"

namespace supra {

// `request.model_config` / `request.from_layout` override discovery;
// `request.to_layout` is ignored.
CanonicalModel open_canonical_model(const fs::path& input, const LayoutRequest& request = {},
                                    const ReadOptions& read = {});

// The same for a checkpoint already read.
CanonicalModel to_canonical_model(const Checkpoint& ckpt, const fs::path& input, const LayoutRequest& request = {});

}  // namespace supra
