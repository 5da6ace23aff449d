// Rng: the only source of randomness in gpupool. Seeded, injected (never global), and the same
// sequence on every platform and standard library: xoshiro256** seeded through SplitMix64, with
// unbiased bounded integers by rejection (std:: distributions differ between library vendors,
// which would make a seed's result depend on the machine).
//
// Thread safety: one Rng per thread; not synchronised.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace gpupool {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  std::uint64_t Next();
  // Uniform in [0, bound); bound > 0.
  std::uint64_t Uniform(std::uint64_t bound);
  // Uniform double in [0, 1).
  double UniformDouble();

  // Fisher-Yates shuffle driven by this generator.
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      std::size_t j = static_cast<std::size_t>(Uniform(i));
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  std::uint64_t s_[4];
};

}  // namespace gpupool
