#pragma once
// Each subcommand lives in its own file and registers itself on the app.
#include <CLI/CLI.hpp>
#include <functional>

namespace supra::cli {

// A registered subcommand's action: returns the process exit code.
using Action = std::function<int()>;

// Exit code of a comparison that ran and found a difference: `validate`
// parity failed, or `diff` found tensors that differ beyond --tol. (0 ok,
// 2 usage, 3 bad input, 4 I/O, 5 internal: schema/error.hpp.)
inline constexpr int kExitParityFailed = 6;

void add_inspect_command(CLI::App& app, Action& action);
void add_convert_command(CLI::App& app, Action& action);
void add_demo_model_command(CLI::App& app, Action& action);
void add_validate_command(CLI::App& app, Action& action);
void add_diff_command(CLI::App& app, Action& action);
void add_logits_command(CLI::App& app, Action& action);
void add_generate_command(CLI::App& app, Action& action);
void add_perplexity_command(CLI::App& app, Action& action);
void add_linearize_command(CLI::App& app, Action& action);
void add_tokenize_commands(CLI::App& app, Action& action);  // tokenize, detokenize

}  // namespace supra::cli
