#pragma once
// Each subcommand lives in its own file and registers itself on the app.
#include <CLI/CLI.hpp>
#include <functional>

namespace supra::cli {

// A registered subcommand's action: returns the process exit code.
using Action = std::function<int()>;

void add_inspect_command(CLI::App& app, Action& action);
void add_convert_command(CLI::App& app, Action& action);
void add_demo_model_command(CLI::App& app, Action& action);
void add_tokenize_commands(CLI::App& app, Action& action);  // tokenize, detokenize

}  // namespace supra::cli
