// supra demo-model OUT [--dtype bf16]: writes the built-in tiny demo model.
#include <fmt/format.h>

#include <filesystem>

#include "converters/format.hpp"
#include "converters/output_transaction.hpp"
#include "schema/demo_model.hpp"
#include "schema/error.hpp"
#include "tools/commands.hpp"

namespace supra::cli {

void add_demo_model_command(CLI::App& app, Action& action) {
  struct Args {
    std::string out, dtype = "bf16", format;
    bool force = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("demo-model", "Write the built-in tiny Llama-shaped demo checkpoint");
  cmd->add_option("output", a->out, "Output file or folder")->required();
  cmd->add_option("--dtype", a->dtype, "Element type of the weights (default bf16)");
  cmd->add_option("--format", a->format, "Output format (default: from the output name)");
  cmd->add_flag("--force", a->force, "Overwrite an existing output");
  cmd->callback([a, &action] {
    action = [a] {
      const auto dtype = dtype_from_user(a->dtype);
      if (!dtype) throw usage_error("usage.dtype", "unknown --dtype '" + a->dtype + "'");
      const Checkpoint ckpt = make_demo_checkpoint(DemoModelShape{}, *dtype);
      const Format& format = choose_output_format(a->out, a->format);
      WriteOptions options;
      options.force = a->force;
      OutputTransaction tx(format.output_folder(a->out), a->force);
      format.write(ckpt, a->out, options, tx);
      if (format.is_folder_output(a->out)) {
        // A folder: make it a complete Hugging Face model folder.
        tx.write_file("config.json", demo_config_json(DemoModelShape{}, *dtype));
        tx.write_file("tokenizer.json", demo_tokenizer_json());
        tx.write_file("tokenizer_config.json", demo_tokenizer_config_json());
      }
      tx.commit();
      fmt::print("wrote demo model ({} tensors, {} parameters) to {}\n", ckpt.tensors.size(), ckpt.total_params(),
                 a->out);
      return 0;
    };
  });
}

}  // namespace supra::cli
