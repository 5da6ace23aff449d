#include "planner/fabric.h"

#include <string>

namespace gpupool::planner {
namespace {

std::string ScaleOutNames(const hw::Catalog& catalog) {
  std::string names;
  for (const hw::Interconnect& ic : catalog.interconnects()) {
    if (ic.kind != hw::LinkKind::kScaleOut) continue;
    names += (names.empty() ? "" : ", ") + ic.name;
  }
  return names;
}

}  // namespace

LinkTier TierOf(const hw::Interconnect& link) {
  double alpha = StepLatencyUs::kScaleUp;
  if (link.kind == hw::LinkKind::kPcie) alpha = StepLatencyUs::kPcie;
  if (link.kind == hw::LinkKind::kScaleOut) {
    // The catalog's canonical names: "RoCE-100G", ... for Ethernet, "IB-..." for InfiniBand.
    alpha = link.name.rfind("RoCE", 0) == 0 ? StepLatencyUs::kRoce : StepLatencyUs::kInfiniBand;
  }
  LinkTier t{link.name, link.bandwidth_gbs.value, alpha, link.achievable_fraction};
  // NVLink SHARP: the NVSwitch of NVLink 4 and later reduces (planner/comm_model.h).
  t.nvls =
      link.kind == hw::LinkKind::kScaleUp && (link.name == "NVLink4" || link.name == "NVLink5");
  return t;
}

Result<LinkTier> ScaleOutTier(const hw::Catalog& catalog, std::string_view network) {
  auto found = catalog.FindInterconnect(network);
  if (!found) {
    return Error(Status::NotFound("unknown --network '" + std::string(network) + "' (" +
                                  ScaleOutNames(catalog) + ")"));
  }
  const hw::Interconnect& ic = **found;
  if (ic.kind != hw::LinkKind::kScaleOut) {
    return Error(Status::InvalidArgument(
        "--network " + ic.name + " is a " + std::string(hw::LinkKindName(ic.kind)) +
        " link, not a network between nodes (" + ScaleOutNames(catalog) + ")"));
  }
  return TierOf(ic);
}

Result<LinkTier> ScaleUpTier(const hw::Catalog& catalog, const hw::GpuModel& gpu) {
  if (!gpu.scale_up_link.empty() && gpu.scale_up_bandwidth_gbs.value > 0) {
    auto ic = catalog.FindInterconnect(gpu.scale_up_link);
    if (!ic) return Error(ic.error());
    LinkTier t = TierOf(**ic);
    t.bandwidth_gbs = gpu.scale_up_bandwidth_gbs.value / 2;  // the GPU's own figure, per direction
    return t;
  }
  const int gen = gpu.pcie_gen > 0 ? gpu.pcie_gen : 4;
  auto ic = catalog.FindInterconnect("PCIe" + std::to_string(gen) + "-x16");
  if (!ic) return Error(ic.error());
  return TierOf(**ic);
}

int DefaultGpusPerNode(const hw::GpuModel& gpu) {
  return gpu.name.find("GB200") != std::string::npos ? 72 : 8;
}

Result<Fabric> CatalogFabric(const hw::Catalog& catalog, const hw::GpuModel& gpu,
                             std::string_view network, int gpus_per_node) {
  Fabric f;
  auto up = ScaleUpTier(catalog, gpu);
  if (!up) return Error(up.error());
  auto out = ScaleOutTier(catalog, network);
  if (!out) return Error(out.error());
  f.scale_up = *up;
  f.scale_out = *out;
  f.gpus_per_node = gpus_per_node > 0 ? gpus_per_node : DefaultGpusPerNode(gpu);
  const int gen = gpu.pcie_gen > 0 ? gpu.pcie_gen : 4;
  auto host = catalog.FindInterconnect("PCIe" + std::to_string(gen) + "-x16");
  if (!host) return Error(host.error());
  f.host = TierOf(**host);
  return f;
}

}  // namespace gpupool::planner
