// supra: convert, linearize and validate transformer checkpoints.
// Exit codes: 0 ok, 2 usage error, 3 bad input, 4 I/O error, 5 internal error,
// 6 compared and different (validate: parity failed; diff: tensors differ).
#include <cstdio>
#include <iostream>

#include "schema/error.hpp"
#include "tools/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"supra: convert, linearize and validate transformer checkpoints"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "supra 0.1.0");
  supra::cli::Action action;
  supra::cli::add_inspect_command(app, action);
  supra::cli::add_convert_command(app, action);
  supra::cli::add_demo_model_command(app, action);
  supra::cli::add_validate_command(app, action);
  supra::cli::add_diff_command(app, action);
  supra::cli::add_logits_command(app, action);
  supra::cli::add_generate_command(app, action);
  supra::cli::add_perplexity_command(app, action);
  supra::cli::add_linearize_command(app, action);
  supra::cli::add_tokenize_commands(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "[usage] %s (see supra --help)\n", e.what());
    return supra::exit_code_for(supra::ErrorKind::Usage);
  }
  try {
    return action ? action() : 0;
  } catch (const supra::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", e.what());
    return supra::exit_code_for(e.kind());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "[internal.memory] out of memory\n");
    return supra::exit_code_for(supra::ErrorKind::Internal);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[internal] %s\n", e.what());
    return supra::exit_code_for(supra::ErrorKind::Internal);
  }
}
