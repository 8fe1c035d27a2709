#pragma once
// `--layout srupp` / `--layout sru`: the authors' SRU / SRU++ state-dict
// names kept, checked strictly against sru_config.json (the input folder's,
// or --model-config), and put in the order the authors' state_dict() lists
// them, so a .pt written back loads with load_state_dict(strict=True) in the
// same key order.
#include "converters/relayout/layout_pipeline.hpp"

namespace supra {

bool is_sru_layout(const std::string& layout);
LayoutResult keep_sru_names(const Checkpoint& ckpt, const fs::path& input, const LayoutRequest& request);

}  // namespace supra
