// A small mutation driver for LLVMFuzzerTestOneInput (job_spec_fuzz.cc), so that the fuzz target
// runs in the test suite with the project's own compiler. It starts from a corpus directory, and
// for each run takes a corpus entry, applies 1-4 random mutations (bit flips, byte insertions and
// deletions, duplicated or spliced ranges, JSON tokens from a dictionary) and calls the target.
// Inputs that parse as JSON objects join the corpus (up to a bound), so mutations build on
// structure. Deterministic for a seed.
//
//   job_spec_fuzz [--runs N] [--seed S] CORPUS_DIR   (tests/fuzz/CMakeLists.txt)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

const char* const kDictionary[] = {"\"command\"",
                                   "\"gpus\"",
                                   "\"gpu_memory_mib\"",
                                   "\"gpu_models\"",
                                   "\"cpu_milli\"",
                                   "\"memory_mib\"",
                                   "\"replicas\"",
                                   "\"queue\"",
                                   "\"priority\"",
                                   "\"time_limit_s\"",
                                   "\"preemptible\"",
                                   "\"requeue\"",
                                   "\"env\"",
                                   "\"workdir\"",
                                   "\"name\"",
                                   "null",
                                   "true",
                                   "false",
                                   "0",
                                   "-0",
                                   "1",
                                   "-1",
                                   "0.5",
                                   "0.0005",
                                   "0.001",
                                   "0.999",
                                   "1.5",
                                   "16",
                                   "17",
                                   "4096",
                                   "4097",
                                   "1e308",
                                   "-1e308",
                                   "1e-400",
                                   "9223372036854775807",
                                   "18446744073709551616",
                                   "[]",
                                   "{}",
                                   "[\"x\"]",
                                   "\"\"",
                                   "\"\\u0000\"",
                                   "\"\\ud800\"",
                                   "\"H100\"",
                                   "\"h100-sxm\"",
                                   ":",
                                   ",",
                                   "[",
                                   "]",
                                   "{",
                                   "}",
                                   "\"CUDA_VISIBLE_DEVICES\"",
                                   "\"GPUPOOL_X\"",
                                   "\"/tmp\""};

std::string Mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  const auto pick = [&rng](std::size_t n) {
    return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n);
  };
  const int count = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < count; ++i) {
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1U << (rng() % 8));
        break;
      case 1:  // insert a random byte
        s.insert(pick(s.size() + 1), 1, static_cast<char>(rng() % 256));
        break;
      case 2:  // delete a range
        if (!s.empty()) {
          const std::size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<std::size_t>(16, s.size() - at)));
        }
        break;
      case 3:  // duplicate a range
        if (!s.empty()) {
          const std::size_t at = pick(s.size());
          const std::size_t len = 1 + pick(std::min<std::size_t>(32, s.size() - at));
          s.insert(pick(s.size() + 1), s.substr(at, len));
        }
        break;
      case 4: {  // a dictionary token
        const char* tok = kDictionary[pick(sizeof kDictionary / sizeof kDictionary[0])];
        s.insert(pick(s.size() + 1), tok);
        break;
      }
      default: {  // splice with another entry
        const std::string& other = corpus[pick(corpus.size())];
        const std::size_t cut = pick(s.size() + 1);
        s = s.substr(0, cut) + other.substr(pick(other.size() + 1));
        break;
      }
    }
  }
  if (s.size() > 4096) s.resize(4096);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long long runs = 100000;
  unsigned long long seed = 1;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::stoll(argv[++i]);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::stoull(argv[++i]);
    } else {
      dir = a;
    }
  }
  std::vector<std::string> corpus;
  if (!dir.empty()) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      corpus.push_back(ss.str());
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "job_spec_fuzz: no corpus in '%s'\n", dir.c_str());
    return 2;
  }
  const std::size_t seeds = corpus.size();
  std::mt19937_64 rng(seed);
  for (const auto& c : corpus) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(c.data()), c.size());
  }
  for (long long r = 0; r < runs; ++r) {
    const std::string input = Mutate(corpus[rng() % corpus.size()], corpus, rng);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    if (corpus.size() < 20000 && !input.empty() && input.front() == '{' && rng() % 8 == 0) {
      corpus.push_back(input);
    }
  }
  std::printf(
      "job_spec_fuzz: %lld mutated inputs from %zu seeds (corpus grew to %zu), no property "
      "violated\n",
      runs, seeds, corpus.size());
  return 0;
}
