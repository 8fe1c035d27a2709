#pragma once
// The Hugging Face hub cache (huggingface_hub's ~/.cache/huggingface/hub):
// a repo folder `models--org--name` holds blobs/ (the files by hash),
// snapshots/<commit>/ (symlinks into blobs/, one folder per revision) and
// refs/main (the commit `main` points at). A snapshot folder reads as any
// model folder; the repo folder itself is resolved to one of them here.
#include <filesystem>

namespace supra {

// The snapshot folder refs/main names, or the only snapshot there is, when
// `path` is a hub cache repo folder; `path` unchanged otherwise. Throws
// hub.101 when refs/main names a snapshot that is not there, hub.102 when
// there is no refs/main and several snapshots (listing them to choose from),
// hub.103 when there is no snapshot at all.
std::filesystem::path resolve_hub_cache_repo(const std::filesystem::path& path);

}  // namespace supra
