// The planner's fabric (planner/comm_model.h) built from the hardware catalog (src/hw,
// data/hw/*.yaml), the one source of link bandwidths, achievable fractions and a GPU's scale-up
// bandwidth. `gpupool plan` and the planner's tests both build their fabric here, from the same
// loaded catalog, so a figure cannot differ between what the program prints and what the
// validation checks.
//
// - Scale-up tier (inside a node): a GPU with a scale-up link (NVLink, Infinity Fabric, HCCS) uses
//   half of its own bidirectional scale_up_bandwidth_gbs (per GPU: the H800's NVLink is cut to
//   400 GB/s while its link is NVLink4) and the link entry's achievable_fraction; a GPU without
//   one uses the catalog's "PCIe<gen>-x16" entry (generation 4 when the GPU states none).
// - Scale-out tier (between nodes): the catalog's scale-out entry named by `network` (IB-HDR,
//   IB-NDR, IB-XDR, RoCE-100G, ...): bandwidth per direction per NIC rail and achievable fraction.
// - Per-step latency alpha is NOT the catalog's wire latency (well under a microsecond): it is
//   NCCL's per-step software overhead, a planner model constant (kStepLatencyUs below).
// - NVLink SHARP (LinkTier::nvls): the catalog's NVLink4 and NVLink5 links, whose systems put
//   the GPUs on NVSwitches that reduce (HGX H100/H200/H800/H20, B200, GB200 NVL72).
// - gpus_per_node: 8, or 72 for the GB200 (NVL72 domain), unless given.
// - Host link (CPU offload): the catalog's "PCIe<gen>-x16" entry of the GPU's PCIe generation.
//
// Errors: NotFound for an unknown network (listing the catalog's scale-out links),
// InvalidArgument for a link that is not scale-out. Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "hw/catalog.h"
#include "planner/comm_model.h"

namespace gpupool::planner {

// NCCL per-step overhead alpha of the alpha-beta model, microseconds (order of the small-message
// floors in ../shared/specs/hardware.md: calculon 10 us NVLink / 20 us IB, llm-analysis 8 us).
struct StepLatencyUs {
  static constexpr double kScaleUp = 5;      // NVLink, Infinity Fabric, HCCS
  static constexpr double kPcie = 10;        // through the host's root complex
  static constexpr double kInfiniBand = 10;  // scale-out, RDMA over InfiniBand
  static constexpr double kRoce = 15;        // scale-out, RDMA over Ethernet (catalog "RoCE-...")
};

// The scale-out network `gpupool plan` assumes without --network.
inline constexpr std::string_view kDefaultNetwork = "IB-NDR";

// The tier of one catalog link: its per-direction bandwidth, achievable fraction and the step
// latency of its kind.
LinkTier TierOf(const hw::Interconnect& link);

// The catalog's scale-out link named `network` (aliases and case as FindInterconnect).
Result<LinkTier> ScaleOutTier(const hw::Catalog& catalog, std::string_view network);

// The link inside a node of `gpu` (see the header comment).
Result<LinkTier> ScaleUpTier(const hw::Catalog& catalog, const hw::GpuModel& gpu);

// 8, or 72 for the GB200 (one NVL72 NVLink domain).
int DefaultGpusPerNode(const hw::GpuModel& gpu);

// Both tiers; gpus_per_node 0 = DefaultGpusPerNode(gpu).
Result<Fabric> CatalogFabric(const hw::Catalog& catalog, const hw::GpuModel& gpu,
                             std::string_view network = kDefaultNetwork, int gpus_per_node = 0);

}  // namespace gpupool::planner
