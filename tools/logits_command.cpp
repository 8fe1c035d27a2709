// supra logits MODEL [--tokens F | --text F | --prompt S] --out OUT.npy [--positions all|last]
//   [--precision f32|f64] [--dump-hidden OUT.npz|OUT.h5] [--threads N] ...
#include <fmt/format.h>

#include "converters/format.hpp"
#include "schema/error.hpp"
#include "tools/commands.hpp"
#include "tools/model_args.hpp"
#include "tools/sru_commands.hpp"

namespace supra::cli {

void add_logits_command(CLI::App& app, Action& action) {
  struct Args {
    ModelArgs model;
    std::string out, positions = "all", dump_hidden;
    SruLogitsArgs sru;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("logits", "Run the model's forward pass and write its logits (.npy)");
  add_model_options(*cmd, a->model);
  cmd->add_option("--out", a->out, "Output file for the logits [T, vocab] (or [B, T, vocab]): .npy")->required();
  cmd->add_option("--positions", a->positions, "Rows to write: all (default) or last")
      ->check(CLI::IsMember({"all", "last"}));
  cmd->add_option("--dump-hidden", a->dump_hidden,
                  "Also write the hidden state after the embedding, every layer's attention and MLP, and the final "
                  "norm (.npz or .h5)");
  cmd->add_option("--input", a->sru.input, "SRU / SRU++ models without an LM: float input [B, T, input_size] (.npy)");
  cmd->add_option("--segment", a->sru.segment, "SRU++ LMs: segment-wise evaluation with memory (0: whole sequence)");
  cmd->callback([a, &action] {
    action = [a] {
      if (is_sru_model(a->model)) {
        if (!a->dump_hidden.empty()) throw usage_error("sru.usage", "--dump-hidden is not implemented for SRU models");
        a->sru.out = a->out;
        a->sru.last_only = a->positions == "last";
        return run_sru_logits(a->model, a->sru);
      }
      // Output formats first: a bad name fails before the forward pass.
      const Format& out_format = choose_output_format(a->out, "");
      const Format* hidden_format = a->dump_hidden.empty() ? nullptr : &choose_output_format(a->dump_hidden, "");
      const validate::Model model = open_model(a->model);
      const validate::TokenBatch tokens = choose_tokens(a->model, model.spec().vocab, "logits");
      validate::LogitsOptions options;
      options.last_only = a->positions == "last";
      options.precision = precision_of(a->model);
      options.threads = a->model.threads;
      options.dump_hidden = hidden_format != nullptr;
      const validate::LogitsResult r = validate::compute_logits(model, tokens, options);
      WriteOptions write;
      write.force = true;  // a computed result replaces the previous run's
      if (hidden_format) write_checkpoint(*hidden_format, r.hidden, a->dump_hidden, write);
      write_checkpoint(out_format, r.logits, a->out, write);
      const TensorInfo& info = r.logits.tensors.front()->info();
      const uint64_t n_tokens = tokens.sequences.size() * tokens.sequences.front().size();
      fmt::print("wrote logits {} {} to {}{} ({} tokens in {:.3f} s: {:.1f} tokens/s)\n", info.shape_string(),
                 a->model.precision == "f64" ? "float64" : "float32", a->out,
                 hidden_format ? fmt::format(" and {} hidden states to {}", r.hidden.tensors.size(), a->dump_hidden)
                               : "",
                 n_tokens, r.seconds, r.seconds > 0 ? double(n_tokens) / r.seconds : 0.0);
      return 0;
    };
  });
}

}  // namespace supra::cli
