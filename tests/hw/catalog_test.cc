#include "hw/catalog.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "hw/hw_test_util.h"

namespace gpupool::hw {
namespace {

using testing::kOneGpu;
using testing::kOneLink;
using testing::ScratchDir;
using testing::Shipped;

// --- Name matching over the shipped catalog
// -------------------------------------------------------

struct Spelling {
  const char* query;
  const char* canonical;
};

TEST(CatalogTest, FindsGpusByTheirCommonSpellings) {
  // Each spelling normalizes (lower case, letters and digits only, vendor word dropped) to a
  // name or alias of exactly one entry:
  //   "H100" -> "h100" = alias of H100-SXM; "h100-sxm" -> "h100sxm" = alias of H100-SXM;
  //   "A100-80GB" -> "a10080gb" = alias of A100-SXM-80GB; "a100-sxm4-80gb" -> "a100sxm480gb" =
  //   alias; "H800" -> "h800" = alias of H800-SXM; "4090" = alias of RTX-4090; "NVIDIA GeForce RTX
  //   4090" -> drop "nvidia", "geforce" -> "rtx4090" = alias.
  const Spelling table[] = {
      {"H100", "H100-SXM"},
      {"h100-sxm", "H100-SXM"},
      {"H100 SXM5 80GB", "H100-SXM"},
      {"A100-80GB", "A100-SXM-80GB"},
      {"a100-sxm4-80gb", "A100-SXM-80GB"},
      {"A100", "A100-SXM-80GB"},
      {"a100-40gb", "A100-SXM-40GB"},
      {"A100-PCIe", "A100-PCIe-80GB"},
      {"H800", "H800-SXM"},
      {"4090", "RTX-4090"},
      {"NVIDIA GeForce RTX 4090", "RTX-4090"},
      {"h200", "H200-SXM"},
      {"MI300X", "MI300X"},
      {"AMD Instinct MI300X", "MI300X"},
      {"910B", "Ascend-910B"},
      {"l40s", "L40S"},
      {"L4", "L4"},
      {"gb200", "GB200"},
      {"v100", "V100-SXM2"},
      {"Tesla V100", "V100-SXM2"},
      {"NVIDIA A10", "A10"},
      {"Tesla T4", "T4"},
  };
  for (const auto& [query, canonical] : table) {
    auto g = Shipped().FindGpu(query);
    ASSERT_TRUE(g.has_value()) << query << ": " << g.error().ToString();
    EXPECT_EQ((*g)->name, canonical) << query;
  }
}

TEST(CatalogTest, UnknownGpuIsNotFoundAndListsCloseNames) {
  // "H10" is contained in "h100", "h100sxm", ... so H100-SXM and H100-PCIe are suggested.
  auto g = Shipped().FindGpu("H10");
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code(), StatusCode::kNotFound);
  EXPECT_NE(g.error().message().find("unknown GPU 'H10'"), std::string::npos);
  EXPECT_NE(g.error().message().find("H100-SXM"), std::string::npos);
  EXPECT_NE(g.error().message().find("H100-PCIe"), std::string::npos);
  EXPECT_EQ(g.error().ExitCode(), 2);

  // "A1000" is one deletion from "a100": suggests the A100 family.
  auto a = Shipped().FindGpu("A1000");
  ASSERT_FALSE(a.has_value());
  EXPECT_NE(a.error().message().find("A100-SXM-80GB"), std::string::npos);
}

TEST(CatalogTest, CoversEveryGpuTheIssueNames) {
  for (const char* name : {"V100", "A100-40GB", "A100-80GB", "A100-PCIe-40GB", "A100-PCIe-80GB",
                           "A800", "H100-SXM", "H100-PCIe", "H800", "H20", "H200", "B200", "GB200",
                           "L40S", "L4", "RTX 4090", "MI300X", "Ascend 910B"}) {
    EXPECT_TRUE(Shipped().FindGpu(name).has_value()) << name;
  }
}

// --- Rates: dense, sparse, absent ---------------------------------------------------------------

TEST(CatalogTest, StoresDenseRatesAsHalfTheSparseDatasheetFigure) {
  const GpuModel& h100 = **Shipped().FindGpu("H100");
  // Datasheet (with sparsity): BF16 1979, FP8 3958, TF32 989 -> dense 989.5, 1979, 494.5.
  EXPECT_DOUBLE_EQ(*h100.DenseTflops(Precision::kBf16), 1979.0 / 2);
  EXPECT_DOUBLE_EQ(*h100.DenseTflops(Precision::kFp16), 989.5);
  EXPECT_DOUBLE_EQ(*h100.DenseTflops(Precision::kFp8), 1979.0);
  EXPECT_DOUBLE_EQ(*h100.DenseTflops(Precision::kTf32), 494.5);
  // FP32 is not a tensor precision: no sparse figure, 67 as printed.
  EXPECT_DOUBLE_EQ(*h100.DenseTflops(Precision::kFp32), 67.0);
  EXPECT_FALSE(h100.SparseTflops(Precision::kFp32).has_value());
  // Sparse = 2 x dense: 2 x 989.5 = 1979.
  EXPECT_DOUBLE_EQ(*h100.SparseTflops(Precision::kBf16), 1979.0);
  // The derivation is kept in the source text.
  EXPECT_NE(h100.dense_tflops.at(Precision::kBf16).source.find("(sparse 1979 / 2)"),
            std::string::npos);

  // A100: sparse 624 / 2 = 312 BF16; sparse 1248 / 2 = 624 INT8.
  const GpuModel& a100 = **Shipped().FindGpu("A100");
  EXPECT_DOUBLE_EQ(*a100.DenseTflops(Precision::kBf16), 312.0);
  EXPECT_DOUBLE_EQ(*a100.DenseTflops(Precision::kInt8), 624.0);
  // B200: FP4 sparse 18,000 / 2 = 9,000; GB200: 20,000 / 2 = 10,000.
  EXPECT_DOUBLE_EQ(*(*Shipped().FindGpu("B200"))->DenseTflops(Precision::kFp4), 9000.0);
  EXPECT_DOUBLE_EQ(*(*Shipped().FindGpu("GB200"))->DenseTflops(Precision::kFp4), 10000.0);
  // A10 datasheet: BF16 250 and INT8 500 with sparsity -> 125 and 250 dense. T4 (Turing, no
  // sparsity): FP16 65 as printed.
  const GpuModel& a10 = **Shipped().FindGpu("A10");
  EXPECT_DOUBLE_EQ(*a10.DenseTflops(Precision::kBf16), 125.0);
  EXPECT_DOUBLE_EQ(*a10.DenseTflops(Precision::kInt8), 250.0);
  EXPECT_DOUBLE_EQ(*(*Shipped().FindGpu("T4"))->DenseTflops(Precision::kFp16), 65.0);
  EXPECT_FALSE((*Shipped().FindGpu("T4"))->SparseTflops(Precision::kFp16).has_value());
}

TEST(CatalogTest, AbsentPrecisionMeansNoNativeSupport) {
  struct Case {
    const char* gpu;
    Precision p;
  };
  // V100: no BF16/TF32/FP8; A100/A800: no FP8; Hopper and Ada: no FP4; 910B: no FP8.
  const Case absent[] = {
      {"V100", Precision::kBf16}, {"V100", Precision::kTf32}, {"V100", Precision::kFp8},
      {"A100", Precision::kFp8},  {"A800", Precision::kFp8},  {"H100", Precision::kFp4},
      {"L40S", Precision::kFp4},  {"910B", Precision::kFp8},  {"T4", Precision::kBf16},
      {"T4", Precision::kFp8},    {"A10", Precision::kFp8}};
  for (const auto& [gpu, p] : absent) {
    EXPECT_FALSE((*Shipped().FindGpu(gpu))->DenseTflops(p).has_value())
        << gpu << " " << PrecisionName(p);
  }
  EXPECT_TRUE((*Shipped().FindGpu("L4"))->DenseTflops(Precision::kFp8).has_value());
  EXPECT_TRUE((*Shipped().FindGpu("B200"))->DenseTflops(Precision::kFp4).has_value());
}

TEST(CatalogTest, ExportVariantsDifferOnlyWhereReported) {
  const GpuModel& h100 = **Shipped().FindGpu("H100");
  const GpuModel& h800 = **Shipped().FindGpu("H800");
  EXPECT_DOUBLE_EQ(*h800.DenseTflops(Precision::kBf16), *h100.DenseTflops(Precision::kBf16));
  EXPECT_DOUBLE_EQ(h800.scale_up_bandwidth_gbs.value, 400.0);  // vs 900 on the H100
  EXPECT_DOUBLE_EQ(*h800.DenseTflops(Precision::kFp64), 1.0);
  EXPECT_DOUBLE_EQ((*Shipped().FindGpu("A800"))->scale_up_bandwidth_gbs.value, 400.0);  // vs 600
}

TEST(CatalogTest, A100VectorFp64IsNotItsFp32) {
  // The seed's trap: 9.7 TFLOPS is the A100's FP64 on CUDA cores; FP32 is 19.5.
  const GpuModel& a100 = **Shipped().FindGpu("A100");
  EXPECT_DOUBLE_EQ(a100.vector_tflops.at(Precision::kFp64).value, 9.7);
  EXPECT_DOUBLE_EQ(*a100.DenseTflops(Precision::kFp32), 19.5);
}

TEST(CatalogTest, EveryFigureHasASourceAndUnverifiedOnesAreMarked) {
  int unverified = 0;
  for (const auto& g : Shipped().gpus()) {
    EXPECT_FALSE(g.source.empty()) << g.name;
    for (const auto& [name, s] : g.Figures()) {
      EXPECT_FALSE(s->source.empty()) << g.name << " " << name;
      unverified += s->verified ? 0 : 1;
    }
  }
  EXPECT_GT(unverified, 0);
  // Third-party-only entries are unverified throughout.
  for (const char* name : {"H20", "Ascend-910B", "A800"}) {
    for (const auto& [field, s] : (*Shipped().FindGpu(name))->Figures()) {
      EXPECT_FALSE(s->verified) << name << " " << field;
    }
  }
  // A [V] figure from hardware.md stays verified: the H100's 3.35 TB/s.
  EXPECT_TRUE((*Shipped().FindGpu("H100"))->memory_bandwidth_gbs.verified);
}

TEST(CatalogTest, ShippedFiguresAreInternallyConsistent) {
  // Sanity rules that catch a mistyped figure: a narrower tensor format is never slower
  // (tf32 <= bf16 = fp16 <= fp8 <= fp4), a GPU's scale-up figure (both directions) never exceeds
  // twice its link generation's per-direction figure, and years fall in the catalog's span.
  const auto rate = [](const GpuModel& g, Precision p) { return g.DenseTflops(p); };
  for (const auto& g : Shipped().gpus()) {
    SCOPED_TRACE(g.name);
    const auto tf32 = rate(g, Precision::kTf32);
    const auto bf16 = rate(g, Precision::kBf16);
    const auto fp16 = rate(g, Precision::kFp16);
    const auto fp8 = rate(g, Precision::kFp8);
    const auto fp4 = rate(g, Precision::kFp4);
    if (tf32 && bf16) {
      EXPECT_LE(*tf32, *bf16);
    }
    if (bf16 && fp16) {
      EXPECT_DOUBLE_EQ(*bf16, *fp16);
    }
    if (fp16 && fp8) {
      EXPECT_LE(*fp16, *fp8);
    }
    if (fp8 && fp4) {
      EXPECT_LE(*fp8, *fp4);
    }
    EXPECT_GE(g.year, 2017);
    EXPECT_LE(g.year, 2025);
    EXPECT_GT(g.memory_bandwidth_gbs.value, 0);
    EXPECT_GT(g.tdp_w.value, 0);
    if (!g.scale_up_link.empty()) {
      const Interconnect& link = **Shipped().FindInterconnect(g.scale_up_link);
      EXPECT_LE(g.scale_up_bandwidth_gbs.value, 2 * link.bandwidth_gbs.value + 1e-9);
    }
  }
}

TEST(CatalogTest, ScaleUpLinksAreCatalogInterconnects) {
  for (const auto& g : Shipped().gpus()) {
    if (g.scale_up_link.empty()) continue;
    EXPECT_TRUE(Shipped().FindInterconnect(g.scale_up_link).has_value()) << g.name;
  }
  const Interconnect& ndr = **Shipped().FindInterconnect("ndr");
  EXPECT_EQ(ndr.name, "IB-NDR");
  EXPECT_EQ(ndr.kind, LinkKind::kScaleOut);
  EXPECT_DOUBLE_EQ(ndr.bandwidth_gbs.value, 50.0);  // 400 Gb/s / 8
  EXPECT_DOUBLE_EQ((*Shipped().FindInterconnect("RoCE-200G"))->bandwidth_gbs.value,
                   25.0);  // 200 / 8
  EXPECT_DOUBLE_EQ((*Shipped().FindInterconnect("nvlink4"))->bandwidth_gbs.value, 450.0);
  for (const char* name : {"NVLink2", "NVLink3", "NVLink5", "PCIe3", "PCIe4", "PCIe5", "IB-HDR",
                           "IB-XDR", "RoCE-100G", "RoCE-400G"}) {
    EXPECT_TRUE(Shipped().FindInterconnect(name).has_value()) << name;
  }
}

TEST(CatalogTest, ServersNameCatalogGpus) {
  ASSERT_GE(Shipped().servers().size(), 7u);
  const ServerModel& dgx = **Shipped().FindServer("dgx-h100");
  EXPECT_EQ(Shipped().ServerGpu(dgx).name, "H100-SXM");
  EXPECT_EQ(dgx.gpu_count, 8);
  EXPECT_EQ(dgx.cpu.sockets * dgx.cpu.cores_per_socket, 112);  // 2 x 56
}

TEST(CatalogTest, CpuPeakIsCoresTimesClockTimesFlopsPerCycle) {
  // EPYC 9654: 96 x 2.4 GHz x 16 FP64 FLOP/cycle = 3686.4 GFLOPS = 3.6864 TFLOPS; FP32 x 2.
  const CpuModel& epyc = **Shipped().FindCpu("EPYC-9654");
  EXPECT_NEAR(*epyc.PeakTflops(Precision::kFp64), 3.6864, 1e-12);
  EXPECT_NEAR(*epyc.PeakTflops(Precision::kFp32), 7.3728, 1e-12);
  EXPECT_FALSE(epyc.PeakTflops(Precision::kBf16).has_value());
  // Xeon 8480+: 56 x 2.0 x 32 = 3584 GFLOPS.
  EXPECT_NEAR(*(*Shipped().FindCpu("8480+"))->PeakTflops(Precision::kFp64), 3.584, 1e-12);
}

TEST(CatalogTest, PrecisionNamesRoundTrip) {
  for (const Precision p : AllPrecisions()) {
    auto parsed = ParsePrecision(PrecisionName(p));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, p);
  }
  EXPECT_EQ(*ParsePrecision("BF16"), Precision::kBf16);
  EXPECT_FALSE(ParsePrecision("fp12").has_value());
  EXPECT_TRUE(IsTensorPrecision(Precision::kTf32));
  EXPECT_FALSE(IsTensorPrecision(Precision::kFp32));
  EXPECT_FALSE(IsTensorPrecision(Precision::kFp64));
}

TEST(CatalogTest, DefaultLoadsOnce) {
  auto a = Catalog::Default();
  auto b = Catalog::Default();
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*a, *b);
}

// --- Load errors name file, line and field
// --------------------------------------------------------

struct BadCatalog {
  const char* what;
  std::string gpus;
  const char* expect;  // substring of the error
};

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return text.replace(pos, from.size(), to);
}

TEST(CatalogTest, LoadErrorsNameFileLineAndField) {
  const std::string ok = kOneGpu;
  // Line numbers count from 1 in kOneGpu: "memory_gib" is line 11, "tdp_w" 13, "bf16" 17.
  const BadCatalog cases[] = {
      {"not a number", Replace(ok, "memory_gib: 80", "memory_gib: eighty"),
       "gpus.yaml:11: Test-GPU: memory_gib: 'eighty' is not a number"},
      {"unknown field", Replace(ok, "tdp_w: 700", "tdp_watts: 700"),
       "gpus.yaml:13: Test-GPU: tdp_watts: unknown field"},
      {"missing field", Replace(ok, "  tdp_w: 700\n", ""), "Test-GPU: tdp_w: missing"},
      {"unknown precision", Replace(ok, "bf16: {sparse", "bf17: {sparse"),
       "gpus.yaml:17: Test-GPU: dense_tflops.bf17"},
      {"value and sparse", Replace(ok, "{sparse: 1979}", "{sparse: 1979, value: 3}"),
       "dense_tflops.bf16: give exactly one of value: or sparse:"},
      {"no source", Replace(ok, "  source: \"test sheet\"\n", ""), "no source"},
      {"unknown link", Replace(ok, "scale_up_link: NVLink4", "scale_up_link: NVLink9"),
       "Test-GPU: scale_up_link: 'NVLink9' is not in interconnects.yaml"},
      {"malformed YAML", Replace(ok, "aliases: [tg]", "aliases: [tg"), "gpus.yaml:"},
      {"duplicate alias", ok + Replace(Replace(ok, "Test-GPU", "Other-GPU"), "[tg]", "[TG]"),
       "name 'TG' of Other-GPU also names Test-GPU"},
  };
  for (const auto& c : cases) {
    ScratchDir dir("bad");
    dir.Write("gpus.yaml", c.gpus);
    dir.Write("interconnects.yaml", kOneLink);
    auto loaded = Catalog::Load(dir.path());
    ASSERT_FALSE(loaded.has_value()) << c.what;
    EXPECT_EQ(loaded.error().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(loaded.error().message().find(c.expect), std::string::npos)
        << c.what << ": " << loaded.error().message();
    EXPECT_EQ(loaded.error().ExitCode(), 2) << c.what;
  }
}

TEST(CatalogTest, MinimalCatalogLoadsAndMissingFileIsNotFound) {
  ScratchDir dir("ok");
  dir.Write("gpus.yaml", kOneGpu);
  dir.Write("interconnects.yaml", kOneLink);
  auto loaded = Catalog::Load(dir.path());
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_EQ(loaded->gpus().size(), 1u);
  EXPECT_TRUE(loaded->servers().empty());  // servers.yaml is optional
  EXPECT_DOUBLE_EQ(*(*loaded->FindGpu("tg"))->DenseTflops(Precision::kBf16), 989.5);

  ScratchDir empty("empty");
  auto missing = Catalog::Load(empty.path());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.error().message().find("gpus.yaml"), std::string::npos);
}

TEST(CatalogTest, ServerWithUnknownGpuIsRefused) {
  ScratchDir dir("server");
  dir.Write("gpus.yaml", kOneGpu);
  dir.Write("interconnects.yaml", kOneLink);
  dir.Write("servers.yaml", R"(- name: Box
  vendor: x
  source: "test"
  gpu: Z9000
  gpu_count: 8
  gpu_p2p_gbs: 900
  cpu: {model: c, arch: x86, sockets: 2, cores_per_socket: 8, base_ghz: 2}
  memory: {gib: 64, type: DDR5}
  psus: {count: 2}
)");
  auto loaded = Catalog::Load(dir.path());
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message().find("Box: gpu: unknown GPU 'Z9000'"), std::string::npos)
      << loaded.error().message();
}

}  // namespace
}  // namespace gpupool::hw
