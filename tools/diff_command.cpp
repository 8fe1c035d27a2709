// supra diff A B [--tol X] [--json] [--only-different]: tensor by tensor, matched
// by canonical role and layer across formats and naming conventions.
// Exit 6 when a tensor differs beyond --tol, is missing on one side, or changed shape.
#include <iostream>

#include "schema/error.hpp"
#include "tools/commands.hpp"
#include "validate/tensor_diff.hpp"

namespace supra::cli {

void add_diff_command(CLI::App& app, Action& action) {
  struct Args {
    std::string a, b, config_a, config_b;
    double tol = 0;
    bool json = false, only_different = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("diff", "Compare two checkpoints tensor by tensor (names matched across conventions)");
  cmd->add_option("a", args->a, "Checkpoint A (file or folder)")->required();
  cmd->add_option("b", args->b, "Checkpoint B (file or folder)")->required();
  cmd->add_option("--tol", args->tol, "Largest absolute difference that still counts as the same (default 0: exact)");
  cmd->add_flag("--json", args->json, "Print the comparison as JSON");
  cmd->add_flag("--only-different", args->only_different, "List only tensors that are not the same");
  cmd->add_option("--config-a", args->config_a, "config.json for A when it cannot be found next to it");
  cmd->add_option("--config-b", args->config_b, "config.json for B when it cannot be found next to it");
  cmd->callback([args, &action] {
    action = [args] {
      if (!(args->tol >= 0)) throw usage_error("usage.tolerance", "--tol must be a number >= 0");
      LayoutRequest ra, rb;
      ra.model_config = args->config_a;
      rb.model_config = args->config_b;
      const OpenedModel a = open_model_with_storage(args->a, ra);
      const OpenedModel b = open_model_with_storage(args->b, rb);
      TensorDiffOptions options;
      options.tolerance = args->tol;
      const TensorDiffReport r = diff_models(a, b, options);
      if (args->json)
        std::cout << tensor_diff_json(r).dump(2) << "\n";
      else
        std::cout << render_tensor_diff_terminal(r, args->only_different);
      return r.passed ? 0 : kExitParityFailed;
    };
  });
}

}  // namespace supra::cli
