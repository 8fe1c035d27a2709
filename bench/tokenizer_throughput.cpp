// Encodes a text file with supra's tokenizer and prints the best time of N
// runs as JSON (bench/tokenizer_bench.sh runs it beside tokenizers and llama.cpp).
//   tokenizer_throughput MODEL TEXT [RUNS] [IDS_OUT.json]
// MODEL: a folder with tokenizer.json, or a .gguf. Load time is not counted.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "converters/gguf/gguf_reader.hpp"
#include "schema/error.hpp"
#include "tokenizer/tokenizer.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tokenizer_throughput MODEL TEXT [RUNS] [IDS_OUT.json]\n");
    return 2;
  }
  try {
    const std::string model = argv[1];
    const supra::Tokenizer tok =
        model.size() > 5 && model.substr(model.size() - 5) == ".gguf"
            ? supra::Tokenizer::from_gguf_metadata(supra::gguf_kvs_to_json(supra::parse_gguf(model).kvs), model)
            : supra::Tokenizer::from_model_dir(model);
    std::ifstream in(argv[2], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
    // As the references are called: no BOS/EOS, special tokens in the text parsed.
    const supra::EncodeOptions options{.add_special = false, .parse_special = true};
    double best = 1e30;
    std::vector<uint32_t> ids;
    for (int r = 0; r < runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      ids = tok.encode(text, options);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    if (argc > 4) {
      std::ofstream out(argv[4]);
      out << nlohmann::json(ids).dump();
    }
    std::printf("{\"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.6f}\n", text.size(), ids.size(), best);
    return 0;
  } catch (const supra::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 3;
  }
}
