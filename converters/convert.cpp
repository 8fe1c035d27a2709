#include "converters/convert.hpp"

#include <regex>

#include "converters/hub/hub_cache.hpp"
#include "converters/gguf/dequantize.hpp"
#include "converters/output_transaction.hpp"
#include "schema/error.hpp"

namespace supra {
namespace {

std::regex compile(const std::string& pattern, const char* flag) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw usage_error("usage.regex", std::string(flag) + " '" + pattern + "' is not a valid regex: " + e.what());
  }
}

// Every file the output would replace must not be one of the inputs.
void refuse_overwriting_input(const Checkpoint& ckpt, const fs::path& out_folder, const WritePlan& plan) {
  for (const std::string& name : plan.files) {
    std::error_code ec;
    const fs::path target = out_folder / name;
    for (const std::string& input : ckpt.files)
      if (fs::exists(target, ec) && fs::equivalent(target, input, ec))
        throw usage_error("usage.overwrite-input", target.string() + " is an input file; write somewhere else");
  }
}

}  // namespace

Checkpoint select_and_cast(const Checkpoint& in, const ConvertOptions& options, bool cast_vectors) {
  Checkpoint out;
  out.format = in.format;
  out.files = in.files;
  out.metadata = in.metadata;
  out.format_metadata = in.format_metadata;  // typed GGUF KVs must survive --only/--dtype
  const bool has_only = !options.only_regex.empty(), has_exclude = !options.exclude_regex.empty();
  const std::regex only = has_only ? compile(options.only_regex, "--only") : std::regex();
  const std::regex exclude = has_exclude ? compile(options.exclude_regex, "--exclude") : std::regex();
  auto selected = [&](const std::string& name) {
    return !(has_only && !std::regex_search(name, only)) && !(has_exclude && std::regex_search(name, exclude));
  };
  // Filtering comes before typing: an entry --exclude drops is never warned about.
  for (const auto& e : in.skipped)
    if (selected(e.name)) out.skipped.push_back(e);
  for (const auto& t : in.tensors) {
    if (!selected(t->name())) continue;
    const bool cast = options.dtype && (cast_vectors || t->info().shape.size() > 1);
    TensorPtr kept = cast ? cast_if_float(t, *options.dtype) : t;
    // A quantized GGUF tensor reads as F32, so --dtype f32 (or the F32 kept for vectors) leaves it
    // alone; --dtype asks for values, not blocks: hide the blocks from the GGUF writer (which
    // copies them) behind a plain view.
    if (options.dtype && kept == t && dynamic_cast<const DequantizedTensorSource*>(t.get()))
      kept = renamed(t, t->name());
    out.tensors.push_back(std::move(kept));
  }
  return out;
}

void widen_vectors_for_llama_cpp(Checkpoint& ckpt) {
  for (auto& t : ckpt.tensors)
    if (t->info().shape.size() <= 1) t = cast_if_float(t, DType::F32);
}

ConvertResult convert_checkpoint(const fs::path& given, const fs::path& out, const ConvertOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const fs::path in = resolve_hub_cache_repo(given);  // a hub cache repo folder: its snapshot
  const Format& reader = detect_input_format(in);
  const Format& writer = choose_output_format(out, options.output_format);
  Checkpoint source = reader.read(in, options.read);
  Checkpoint selected = select_and_cast(source, options, /*cast_vectors=*/!writer.f32_vectors);
  if (options.strict && !selected.skipped.empty()) {
    const SkippedEntry& e = selected.skipped.front();
    throw bad_input(e.id.c_str(), {source.files.empty() ? in.string() : source.files.front(), e.name, {}},
                    e.type + ": " + e.why + " (--strict; without it the entry is skipped)");
  }

  ConvertResult result;
  result.input_format = reader.name;
  result.output_format = writer.name;
  result.tensors = selected.tensors.size();
  result.skipped = selected.skipped;
  for (const auto& t : selected.tensors) {
    const TensorSource* original = source.find(t->name());
    result.bytes_in += original ? original->info().nbytes() : t->info().nbytes();
  }
  // Naming conventions (--layout, or the one the output format implies): converters/relayout.
  const auto relaid = relayout_for_output(selected, in, reader, writer, options.layout);
  if (relaid) {
    selected = relaid->checkpoint;
    result.tensors = selected.tensors.size();
    result.from_convention = relaid->from_convention;
    result.to_convention = relaid->to_convention;
    if (writer.f32_vectors) widen_vectors_for_llama_cpp(selected);
  }
  // Names kept (a re-layout turns the model KVs into its config and tokenizer files instead).
  if (!relaid && writer.name != "gguf" && source.format_metadata.contains("gguf") &&
      source.format_metadata["gguf"].is_array())
    for (const auto& kv : source.format_metadata["gguf"])
      if (kv.contains("key") && kv["key"].is_string() && !source.metadata.count("gguf." + kv["key"].get<std::string>()))
        result.dropped_metadata.push_back(kv["key"].get<std::string>());
  result.plan = writer.plan(selected, out, options.write);
  const fs::path folder = writer.output_folder(out);
  std::vector<SideFile> side_files;  // config, tokenizer and generation files
  if (writer.is_folder_output(out)) side_files = folder_side_files(selected, relaid ? &*relaid : nullptr, in);
  for (const SideFile& f : side_files) {
    refuse_existing_output(folder / f.name, options.write.force);
    result.plan.files.push_back(f.name);
    result.plan.output_bytes += f.text.size();
  }
  refuse_overwriting_input(source, folder, result.plan);
  if (options.on_plan) options.on_plan(result.plan);
  if (!options.dry_run) {
    // One transaction for the whole job: weights and side files appear together or not at all.
    OutputTransaction tx(folder, options.write.force);
    for (const SideFile& f : side_files) tx.write_file(f.name, f.text);  // first: small, and fail before GBs stream
    result.report = writer.write(selected, out, options.write, tx);
    tx.commit();
    result.bytes_out = result.report.bytes_written;
    for (const SideFile& f : side_files) result.bytes_out += f.text.size();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace supra
