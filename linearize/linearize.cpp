#include "linearize/linearize.hpp"

#include <fmt/format.h>

#include <chrono>

#include "schema/relayout/convert_layout.hpp"
#include "converters/relayout/layout_pipeline.hpp"
#include "converters/open_model.hpp"
#include "converters/output_transaction.hpp"
#include "linearize/init.hpp"
#include "schema/error.hpp"
#include "schema/supra_config.hpp"

namespace supra {
namespace {

// The dtype the new tensors are made in: the source's attention weights'.
DType source_float_dtype(const CanonicalModel& m) {
  const DType d = m.require_layer(0, "attn_q.weight")->info().dtype;
  return dtype_is_float(d) ? d : DType::F32;
}

// Where the checkpoint goes: open_lm's trainer reads checkpoint.pt; the HF
// layout is a safetensors folder by default, or one file of another format.
std::pair<const Format*, fs::path> output_target(const LinearizeOptions& o, const fs::path& outdir) {
  if (o.target == LinearizeTarget::OpenLm) {
    if (!o.format.empty() && o.format != "pytorch")
      throw usage_error("usage.format", "--target open_lm writes checkpoint.pt (the trainer's --pretrained); "
                                        "--format applies to --target hf");
    return {find_format("pytorch"), outdir / "checkpoint.pt"};
  }
  const std::string name = o.format.empty() ? "safetensors" : o.format;
  const Format* f = find_format(name);
  if (!f || !f->can_write()) throw usage_error("usage.format", "unknown output format '" + name + "'");
  if (name == "gguf") throw usage_error("usage.format", "llama.cpp has no SUPRA architecture: GGUF cannot hold this model");
  if (name == "safetensors") return {f, outdir};
  const std::map<std::string, std::string> file_names = {
      {"pytorch", "pytorch_model.bin"}, {"numpy", "model.npz"}, {"hdf5", "model.h5"}, {"stz", "model.stz"}};
  const auto it = file_names.find(name);
  if (it == file_names.end()) throw usage_error("usage.format", "format '" + name + "' cannot be a linearize output");
  return {f, outdir / it->second};
}

std::vector<SideFile> side_files(const LinearizeResult& r, const Checkpoint& written, const fs::path& in) {
  std::vector<SideFile> files;
  if (r.target == LinearizeTarget::OpenLm) {
    files.push_back({"open_lm_config.json", open_lm_config_from_spec(r.plan.spec).dump(2) + "\n"});
  } else {
    files.push_back({"config.json",
                     hf_config_from_spec(r.plan.spec, std::string(dtype_torch_name(r.dtype))).dump(2) + "\n"});
    // The tokenizer is the source's, unchanged: carried as convert carries it
    // (a "canonical" layout makes folder_side_files add no config of its own).
    LayoutResult carried;
    carried.spec = r.plan.spec;
    carried.from_convention = "canonical";
    carried.to_convention = "canonical";
    for (auto& f : folder_side_files(written, &carried, in)) files.push_back(std::move(f));
  }
  files.push_back({"README", ""});  // filled once the plan's file list is known
  return files;
}

std::string target_tensor_name(const Convention& c, const NewTensor& t) {
  const ConventionEntry* e = c.find(t.id);
  return e ? NameResolver::expand(e->name, t.layer) : canonical_name(t.id, t.layer);
}

std::string trainer_command(const fs::path& outdir) {
  const fs::path abs = fs::absolute(outdir);
  return fmt::format(
      "torchrun --nproc-per-node 8 -m open_lm.main \\\n"
      "  --model {}/open_lm_config.json \\\n"
      "  --pretrained {}/checkpoint.pt --load-not-strict \\\n"
      "  --dataset-manifest DATA/manifest.jsonl --train-num-samples TOKENS \\\n"
      "  --precision amp_bfloat16 --lr 3e-5 --warmup 1000 --wd 0.1 --grad-clip-norm 1 \\\n"
      "  --global-batch-size BATCH --epochs 1 --logs logs --name supra-uptrain",
      abs.string(), abs.string());
}

}  // namespace

Checkpoint linearized_canonical_checkpoint(const CanonicalModel& source, const LinearizePlan& plan, DType dtype) {
  Checkpoint out = source.checkpoint;
  for (const auto& layer : plan.layers)
    for (const auto& t : layer.tensors)
      out.tensors.push_back(make_init_tensor(t, dtype, plan.recipe.seed, canonical_name(t.id, t.layer)));
  return out;
}

LinearizeResult linearize_checkpoint(const fs::path& in, const fs::path& outdir, const LinearizeOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const CanonicalModel source = open_canonical_model(in, options.layout, options.read);
  LinearizeResult r;
  r.target = options.target;
  r.source_convention = source.source_convention;
  r.plan = make_plan(source.spec, resolve_recipe(options.recipe, source.spec.layers, options.keep_softmax));
  r.warnings = check_target(r.plan, options.target, in);
  r.plan.spec.norm_eps = target_norm_eps(source.spec, options.target);
  r.plan.spec.check(in.string());
  r.plan.source_params = source.checkpoint.total_params();
  r.dtype = source_float_dtype(source);

  const Convention& to = convention_for(options.target == LinearizeTarget::OpenLm ? "open_lm" : "hf", "supra");
  r.target_convention = to.name;
  for (const auto& layer : r.plan.layers)
    for (const auto& t : layer.tensors) r.new_tensor_names.push_back(target_tensor_name(to, t));
  const Checkpoint canonical = linearized_canonical_checkpoint(source, r.plan, r.dtype);
  const Checkpoint laid_out = convert_layout(canonical, r.plan.spec, find_convention("canonical"), to);

  const auto [format, path] = output_target(options, outdir);
  r.output_format = format->name;
  r.output = path;
  WriteOptions write = options.write;
  if (options.target == LinearizeTarget::OpenLm) {
    write.torch_wrap = "state_dict";
    write.torch_epoch = 0;  // open_lm's load_model unwraps state_dict only beside an "epoch"
  }
  r.write_plan = format->plan(laid_out, path, write);
  if (options.target == LinearizeTarget::OpenLm) r.trainer_command = trainer_command(outdir);
  auto files = side_files(r, laid_out, in);
  for (const SideFile& f : files) r.write_plan.files.push_back(f.name);
  files.back().text = linearize_readme(r, outdir);
  for (const SideFile& f : files) r.write_plan.output_bytes += f.text.size();
  for (const auto& name : r.write_plan.files) refuse_existing_output(outdir / name, options.write.force);
  if (options.on_plan) options.on_plan(r.write_plan);
  if (!options.dry_run) {
    // One transaction: the checkpoint, its config and README appear together or not at all.
    OutputTransaction tx(format->output_folder(path), options.write.force);
    for (const SideFile& f : files) tx.write_file(f.name, f.text);
    r.bytes_out = format->write(laid_out, path, write, tx).bytes_written;
    tx.commit();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

std::string linearize_readme(const LinearizeResult& r, const fs::path& outdir) {
  const ModelSpec& s = r.plan.spec;
  uint64_t linear = 0;
  for (const auto& l : r.plan.layers) linear += l.linear;
  std::string text = fmt::format(
      "SUPRA initialization written by `supra linearize` (target {}).\n\n"
      "Source: {} layers, {} heads ({} kv heads), head dim {}, {} parameters ({} naming).\n"
      "Linear attention in {} of {} layers: feature MLP width {} per head, decay {}{}, qk_norm {}, init {}, seed {}.\n"
      "Parameters added: {}.\n\n",
      target_name(r.target),
      s.layers, s.heads, s.kv_heads, s.head_dim, r.plan.source_params, r.source_convention, linear, s.layers,
      s.supra->qk_dim, supra_decay_name(s.supra->decay),
      s.supra->decay_start ? fmt::format(" (start {})", *s.supra->decay_start) : std::string(), s.supra->qk_norm,
      feature_init_name(r.plan.recipe.init), r.plan.recipe.seed, r.plan.params_added);
  for (const auto& w : r.warnings) text += "warning [" + w.id + "] " + w.message + "\n";
  if (!r.warnings.empty()) text += "\n";
  if (!r.trainer_command.empty()) {
    text += "Uptrain with the SUPRA authors' trainer (TRI-ML/linear_open_lm); fill in DATA, TOKENS and BATCH\n"
            "(Mistral-SUPRA: lr 3e-5 cooling to 1e-5, 1000 warmup steps, 2M-token batches, 100B tokens).\n"
            "checkpoint.pt is {\"epoch\": 0, \"state_dict\": ...} (the loader unwraps state_dict only beside an\n"
            "epoch) and holds every tensor open_lm_config.json implies (supra's tests load it strictly):\n\n" +
            r.trainer_command + "\n";
  } else {
    text += "Hugging Face layout of the authors' wrapper (model_type openlm): load with\n"
            "`from open_lm.open_lm_hf import *` and AutoModelForCausalLM.from_pretrained(\"" +
            fs::absolute(outdir).string() + "\").\n";
  }
  text += "\nFiles:";
  for (const auto& f : r.write_plan.files) text += " " + f;
  return text + "\n";
}

}  // namespace supra
