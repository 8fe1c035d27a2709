// supra validate A B [--tokens F | --text F [--ctx N] | --prompt S | --random-tokens N] [--precision f32|f64]
//   [--json] [--report OUT.md|.html]
// supra validate A --save-base BASE.npz [--tokens F];  supra validate B --base BASE.npz
// supra validate --from-logits A.npy B.npy [--tokens F] [--hidden A.npz B.npz] [--json] [--report OUT.md|.html]
// supra validate --from-logits A.npy --tokens F --save-base BASE.npz
// supra validate --from-logits B.npy --base BASE.npz
// Exit 6 when parity fails (each failing check is named).
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "converters/open_model.hpp"
#include "converters/output_transaction.hpp"
#include "schema/error.hpp"
#include "tools/commands.hpp"
#include "tools/model_tokenizer.hpp"
#include "tools/text_input.hpp"
#include "validate/model_parity.hpp"
#include "validate/parity_from_files.hpp"
#include "validate/parity_inputs.hpp"
#include "validate/perplexity.hpp"

namespace supra::cli {
namespace {

struct ValidateArgs {
  std::vector<std::string> models, from_logits, hidden;
  std::string tokens, text_file, base, save_base, report, tolerance_basis, precision = "f32";
  std::string model_config_a, model_config_b, from_layout_a, from_layout_b;
  std::optional<std::string> prompt;
  std::optional<uint64_t> random_tokens, ctx;
  uint64_t seed = 0;
  int threads = 0;
  uint32_t top_k = kDefaultBaselineTopK;
  bool json = false, force = false, forms = false;
  ToleranceOverrides tol;
};

void add_tolerance_flags(CLI::App* cmd, ValidateArgs& a) {
  cmd->add_option("--tol-kld", a.tol.kld, "Limit on the mean KL divergence");
  cmd->add_option("--tol-kld-p99", a.tol.kld_p99, "Limit on the 99th percentile of KLD (default: not checked)");
  cmd->add_option("--tol-kld-max", a.tol.kld_max, "Limit on the largest KLD (default: not checked)");
  cmd->add_option("--tol-rel", a.tol.rel, "Limit on the relative L2 error of logits and hidden states");
  cmd->add_option("--tol-hidden", a.tol.hidden, "Limit on the hidden states' relative L2 error (default: --tol-rel)");
  cmd->add_option("--tol-top1", a.tol.top1, "Least share of positions with the same top-1 token (0..1)");
  cmd->add_option("--tol-ppl", a.tol.ppl, "Limit on |ln(PPL(B)/PPL(A))|");
  cmd->add_option("--tol-basis", a.tolerance_basis,
                  "Tolerance defaults for this weight type: f64 f32 f16 bf16 fp8 q8 q6 q5 q4 q3 q2 (default: the "
                  "weakest storage type of the two models; f32 for logits files)");
}

// OUT.md or OUT.html, written under a temporary name and renamed into place.
void write_report(const ParityReport& r, const std::filesystem::path& out, bool force) {
  const std::string ext = out.extension().string();
  std::string text;
  if (ext == ".md" || ext == ".markdown")
    text = render_parity_markdown(r);
  else if (ext == ".html" || ext == ".htm")
    text = render_parity_html(r);
  else
    throw usage_error("usage.report", "--report must end in .md or .html, not '" + out.string() + "'");
  OutputTransaction tx(out.has_parent_path() ? out.parent_path() : ".", force);
  const int fd = tx.create(out.filename().string());
  if (::write(fd, text.data(), text.size()) != ssize_t(text.size()))
    throw io_error("io.write", {out.string(), {}, {}}, "short write");
  tx.commit();
}

std::optional<PrecisionClass> tolerance_basis(const ValidateArgs& a) {
  if (a.tolerance_basis.empty()) return std::nullopt;
  auto basis = precision_class_of(a.tolerance_basis);
  if (!basis) throw usage_error("usage.precision", "unknown --tol-basis '" + a.tolerance_basis + "'");
  return basis;
}

// Prints the report (terminal or --json), writes --report; the exit code.
int print_report(const ParityReport& r, const ValidateArgs& a) {
  if (!a.report.empty()) write_report(r, a.report, a.force);
  if (a.json)
    std::cout << parity_report_json(r).dump(2) << "\n";
  else
    std::cout << render_parity_terminal(r);
  return r.verdict.passed ? 0 : kExitParityFailed;
}

LayoutRequest request_for(const std::string& model_config, const std::string& from_layout) {
  LayoutRequest r;
  r.model_config = model_config;
  r.from_layout = from_layout;
  return r;
}

// --text FILE through A's tokenizer, cut into perplexity's windows (one sequence each).
validate::TokenBatch text_windows(const ValidateArgs& a, const std::filesystem::path& model, uint64_t context_length) {
  const Tokenizer tok = load_model_tokenizer(model);
  const auto tokens = perplexity_tokens(tok, read_text_file(a.text_file));
  validate::TokenBatch b;
  b.source = a.text_file;
  b.batched = true;
  const uint64_t ctx = a.ctx.value_or(default_perplexity_ctx(context_length));
  for (auto& w : validate::perplexity_windows(tokens, ctx, 0, window_bos(tok))) b.sequences.push_back(std::move(w.input));
  return b;
}

// --tokens, --text, --prompt, --random-tokens, or 64 random ids (announced on stderr).
validate::TokenBatch tokens_for_models(const ValidateArgs& a, const std::filesystem::path& model,
                                       const LayoutRequest& request) {
  if (!a.tokens.empty()) return validate::read_tokens(a.tokens);
  if (a.prompt) return text_tokens(load_model_tokenizer(model), "", a.prompt);
  if (!a.text_file.empty()) return text_windows(a, model, open_canonical_model(model, request).spec.context_length);
  const uint64_t vocab = open_canonical_model(model, request).spec.vocab;
  validate::TokenBatch b = validate::random_tokens(a.random_tokens.value_or(64), a.seed, vocab);
  if (!a.random_tokens) fmt::print(stderr, "supra validate: no --tokens given; using {}\n", b.source);
  return b;
}

validate::Precision engine_precision(const ValidateArgs& a) {
  return a.precision == "f64" ? validate::Precision::F64 : validate::Precision::F32;
}

int save_base_of_logits(const ValidateArgs& a) {
  if (a.tokens.empty()) throw usage_error("usage.validate", "--save-base needs --tokens (the ids fed to the model)");
  const ParityBaseline base =
      baseline_from_logit_file(a.from_logits[0], validate::as_token_sequences(validate::read_tokens(a.tokens)), a.top_k);
  write_baseline(base, a.save_base, a.force);
  fmt::print("saved baseline of {}: {} positions, top-{} of a vocabulary of {} -> {}\n", a.from_logits[0],
             base.positions(), base.top_k, base.vocab, a.save_base);
  return 0;
}

int save_base_of_model(const ValidateArgs& a) {
  const LayoutRequest request = request_for(a.model_config_a, a.from_layout_a);
  const validate::TokenBatch tokens = tokens_for_models(a, a.models[0], request);
  const ParityBaseline base =
      validate::baseline_of_model(a.models[0], request, tokens, engine_precision(a), a.threads, a.top_k);
  write_baseline(base, a.save_base, a.force);
  fmt::print("saved baseline of {}: {} positions, top-{} of a vocabulary of {} -> {}\n", a.models[0],
             base.positions(), base.top_k, base.vocab, a.save_base);
  return 0;
}

int compare_logits(const ValidateArgs& a) {
  LogitFilesJob job;
  std::optional<ParityBaseline> base;
  if (!a.base.empty()) {
    if (a.from_logits.size() != 1) throw usage_error("usage.validate", "with --base, give B's logits only: --from-logits B.npy");
    base = read_baseline(a.base);
    if (!a.tokens.empty() && validate::as_token_sequences(validate::read_tokens(a.tokens)) != base->tokens)
      throw usage_error("usage.validate", "--tokens differ from the tokens stored in " + a.base);
    job.baseline = &*base;
    job.logits_b = a.from_logits[0];
  } else {
    if (a.from_logits.size() != 2) throw usage_error("usage.validate", "--from-logits needs A.npy and B.npy (or --base)");
    job.logits_a = a.from_logits[0];
    job.logits_b = a.from_logits[1];
    if (!a.tokens.empty()) job.tokens = validate::as_token_sequences(validate::read_tokens(a.tokens));
  }
  if (!a.hidden.empty()) job.hidden_a = a.hidden[0], job.hidden_b = a.hidden[1];
  job.overrides = a.tol;
  job.precision = tolerance_basis(a);
  return print_report(compare_logit_files(job), a);
}

// A B: both run side by side; B --base BASE.npz: B against a stored baseline.
int compare_models(const ValidateArgs& a) {
  validate::ModelParityJob job;
  std::optional<ParityBaseline> base;
  if (!a.base.empty()) {
    if (a.models.size() != 1) throw usage_error("usage.validate", "with --base, give the candidate model only");
    base = read_baseline(a.base);
    job.b = a.models[0];
    job.request_b = request_for(a.model_config_a, a.from_layout_a);
    job.baseline = &*base;
    for (const auto& seq : base->tokens) job.tokens.sequences.emplace_back(seq.begin(), seq.end());
    job.tokens.source = a.base;
  } else {
    if (a.models.size() != 2) throw usage_error("usage.validate", "give two checkpoints A B (or A --save-base F, B --base F)");
    job.a = a.models[0];
    job.b = a.models[1];
    job.request_a = request_for(a.model_config_a, a.from_layout_a);
    job.request_b = request_for(a.model_config_b, a.from_layout_b);
    job.tokens = tokens_for_models(a, job.a, job.request_a);
  }
  job.precision = engine_precision(a);
  job.threads = a.threads;
  job.overrides = a.tol;
  job.tolerance_basis = tolerance_basis(a);
  return print_report(validate::compare_models(job), a);
}

// MODEL --forms: a SUPRA model's linear layers in the parallel form (A) against
// the chunked and the recurrent form (B), layer by layer; the worse exit code.
int compare_forms(const ValidateArgs& a) {
  if (a.models.size() != 1) throw usage_error("usage.validate", "--forms takes one (SUPRA) model");
  validate::ModelParityJob job;
  job.a = job.b = a.models[0];
  job.request_a = job.request_b = request_for(a.model_config_a, a.from_layout_a);
  if (!open_canonical_model(job.a, job.request_a).spec.supra)
    throw usage_error("usage.validate", "--forms compares the forms of SUPRA linear layers; " + a.models[0] +
                                            " has none");
  job.tokens = tokens_for_models(a, job.a, job.request_a);
  job.precision = engine_precision(a);
  job.threads = a.threads;
  job.overrides = a.tol;
  job.tolerance_basis = tolerance_basis(a);
  job.form_a = validate::SupraForm::Parallel;
  nlohmann::ordered_json all;
  int code = 0;
  for (const auto& [name, form] : {std::pair<const char*, validate::SupraForm>{"chunked", validate::SupraForm::Chunked},
                                   {"recurrent", validate::SupraForm::Recurrent}}) {
    job.form_b = form;
    const ParityReport r = validate::compare_models(job);
    if (a.json) {
      all[std::string("parallel_vs_") + name] = parity_report_json(r);
    } else {
      fmt::print("SUPRA forms: parallel (A) vs {} (B)\n", name);
      std::cout << render_parity_terminal(r) << std::flush;
    }
    if (!r.verdict.passed) code = kExitParityFailed;
  }
  if (a.json) std::cout << all.dump(2) << "\n";
  return code;
}

}  // namespace

void add_validate_command(CLI::App& app, Action& action) {
  auto a = std::make_shared<ValidateArgs>();
  CLI::App* cmd = app.add_subcommand("validate", "Prove two models compute the same thing: KLD, PPL, top-1, per-layer error");
  cmd->add_option("models", a->models, "Checkpoints A (reference) and B (candidate): any formats and layouts")
      ->expected(0, 2);
  cmd->add_option("--random-tokens", a->random_tokens, "Feed this many random ids (default: 64, with --seed)");
  cmd->add_option("--seed", a->seed, "Seed of the random ids (default 0)");
  cmd->add_option("--precision", a->precision, "Forward pass in f32 (default) or f64")
      ->check(CLI::IsMember({"f32", "f64"}));
  cmd->add_option("--threads", a->threads, "Worker threads (default: all cores; results do not depend on it)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--model-config", a->model_config_a, "Model config of A if not next to it");
  cmd->add_option("--model-config-b", a->model_config_b, "Model config of B if not next to it");
  cmd->add_option("--from-layout", a->from_layout_a, "Naming convention of A (default: detected)");
  cmd->add_option("--from-layout-b", a->from_layout_b, "Naming convention of B (default: detected)");
  cmd->add_option("--from-logits", a->from_logits, "Compare logits computed elsewhere: A.npy B.npy (B.npy with --base)")
      ->expected(1, 2);
  cmd->add_option("--hidden", a->hidden, "Also compare hidden-state dumps A.npz B.npz layer by layer")->expected(2);
  auto* tokens = cmd->add_option("--tokens", a->tokens, "Token ids fed to the models (JSON array, list of arrays, or .npy)");
  add_text_options(*cmd, a->text_file, a->prompt, {tokens, cmd->get_option("--random-tokens")});
  cmd->add_option("--ctx", a->ctx, "With --text: window length, windows as `supra perplexity` cuts them (default 512)");
  cmd->add_option("--base", a->base, "Compare against a baseline saved with --save-base");
  cmd->add_option("--save-base", a->save_base, "Save A's top-k log-probabilities as a baseline .npz");
  cmd->add_option("--top-k", a->top_k, "Token ids per position in a saved baseline (default 32)");
  cmd->add_flag("--json", a->json, "Print the report as JSON");
  cmd->add_option("--report", a->report, "Also write the report as Markdown (.md) or HTML (.html)");
  cmd->add_flag("--force", a->force, "Overwrite an existing --report or --save-base file");
  cmd->add_flag("--forms", a->forms,
                "One SUPRA model: its linear layers in parallel form against chunked and recurrent, per layer");
  add_tolerance_flags(cmd, *a);
  cmd->callback([a, &action] {
    action = [a] {
      if (!a->models.empty() && !a->from_logits.empty())
        throw usage_error("usage.validate", "give either checkpoints or --from-logits, not both");
      if (!a->from_logits.empty() && (a->prompt || !a->text_file.empty()))
        throw usage_error("usage.validate", "--text and --prompt need checkpoints (a model's tokenizer), not --from-logits");
      if (a->models.empty() && a->from_logits.empty())
        throw usage_error("usage.validate", "give two checkpoints A B, or --from-logits A.npy B.npy");
      if (a->forms) {
        if (!a->report.empty() || !a->save_base.empty() || !a->base.empty())
          throw usage_error("usage.validate", "--forms prints its two reports; --report, --base and --save-base do not apply");
        return compare_forms(*a);
      }
      if (!a->save_base.empty()) {
        if (a->models.size() == 1) return save_base_of_model(*a);
        if (a->from_logits.size() == 1) return save_base_of_logits(*a);
        throw usage_error("usage.validate", "--save-base takes A only (a checkpoint, or --from-logits A.npy)");
      }
      return a->models.empty() ? compare_logits(*a) : compare_models(*a);
    };
  });
}

}  // namespace supra::cli
