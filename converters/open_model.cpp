#include "converters/open_model.hpp"

#include "converters/hub/hub_cache.hpp"
#include "schema/relayout/convert_layout.hpp"

namespace supra {

CanonicalModel to_canonical_model(const Checkpoint& ckpt, const fs::path& input, const LayoutRequest& request) {
  CanonicalModel m;
  m.spec = discover_model_spec(ckpt, input, request.model_config);
  const Convention& from = request.from_layout.empty() ? detect_convention(ckpt, m.spec.architecture)
                                                        : convention_for(request.from_layout, m.spec.architecture);
  m.source_convention = from.name;
  m.checkpoint = convert_layout(ckpt, m.spec, from, find_convention("canonical"));
  m.index();
  return m;
}

CanonicalModel open_canonical_model(const fs::path& given, const LayoutRequest& request, const ReadOptions& read) {
  const fs::path input = resolve_hub_cache_repo(given);
  const Format& format = detect_input_format(input);
  return to_canonical_model(format.read(input, read), input, request);
}

}  // namespace supra
