#include "server/event_stream.h"

#include <charconv>
#include <utility>

namespace gpupool::server {

using nlohmann::json;

namespace {

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Event(const std::string& id, std::string_view type, const std::string& data) {
  std::string out;
  out.reserve(id.size() + type.size() + data.size() + 24);
  out += "id: ";
  out += id;
  out += "\nevent: ";
  out += type;
  out += "\ndata: ";
  out += data;  // one line: JSON text has no raw newline
  out += "\n\n";
  return out;
}

// A section followed per member: an object whose members are all objects (an empty object too).
bool PerMember(const json& section) {
  if (!section.is_object()) return false;
  for (const auto& [k, v] : section.items()) {
    if (!v.is_object()) return false;
  }
  return true;
}

// What changed from `before` to `after`, as described in the header; empty when nothing did.
json Diff(const json& before, const json& after) {
  json delta = json::object();
  for (const auto& [name, now] : after.items()) {
    const auto old = before.find(name);
    if (old == before.end()) {
      delta[name] = now;
      continue;
    }
    if (*old == now) continue;
    if (PerMember(now) && PerMember(*old)) {
      json members = json::object();
      for (const auto& [k, v] : now.items()) {
        const auto o = old->find(k);
        if (o == old->end() || *o != v) members[k] = v;
      }
      for (const auto& [k, v] : old->items()) {
        if (!now.contains(k)) members[k] = nullptr;
      }
      delta[name] = std::move(members);
    } else {
      delta[name] = now;
    }
  }
  for (const auto& [name, v] : before.items()) {
    if (!after.contains(name)) delta[name] = nullptr;
  }
  return delta;
}

}  // namespace

EventStream::EventStream(std::int64_t epoch, std::size_t capacity)
    : epoch_(epoch), capacity_(capacity < 1 ? 1 : capacity) {}

bool EventStream::Publish(json state) {
  std::unique_lock lock(mu_);
  if (!started_) {
    started_ = true;
    state_ = std::move(state);
    snapshot_.reset();
    lock.unlock();
    cv_.notify_all();
    return false;
  }
  json delta = Diff(state_, state);
  if (delta.empty()) return false;
  const std::uint64_t seq = seq_ + 1;
  auto text = std::make_shared<const std::string>(Event(Id(seq), "delta", Dump(delta)));
  delta_bytes_ += text->size();
  deltas_.push_back(std::move(text));
  while (deltas_.size() > capacity_) deltas_.pop_front();
  seq_ = seq;
  state_ = std::move(state);
  snapshot_.reset();
  lock.unlock();
  cv_.notify_all();
  return true;
}

std::string EventStream::Id(std::uint64_t seq) const {
  return std::to_string(epoch_) + "-" + std::to_string(seq);
}

std::optional<std::uint64_t> EventStream::ParseId(std::string_view id) const {
  const std::size_t dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::int64_t epoch = 0;
  std::uint64_t seq = 0;
  const std::string_view e = id.substr(0, dash), s = id.substr(dash + 1);
  const auto [pe, ece] = std::from_chars(e.data(), e.data() + e.size(), epoch);
  const auto [ps, ecs] = std::from_chars(s.data(), s.data() + s.size(), seq);
  if (e.empty() || s.empty() || ece != std::errc() || ecs != std::errc() ||
      pe != e.data() + e.size() || ps != s.data() + s.size() || epoch != epoch_) {
    return std::nullopt;
  }
  return seq;
}

std::string EventStream::Heartbeat(std::int64_t now_ms) {
  return "event: heartbeat\ndata: {\"time_ms\":" + std::to_string(now_ms) + "}\n\n";
}

std::optional<EventStream::Chunk> EventStream::Next(std::string_view after) const {
  const std::optional<std::uint64_t> seq = ParseId(after);
  std::lock_guard lock(mu_);
  return NextLocked(seq.value_or(0), seq.has_value());
}

std::optional<EventStream::Chunk> EventStream::Next(std::uint64_t after_seq) const {
  std::lock_guard lock(mu_);
  return NextLocked(after_seq, true);
}

std::optional<EventStream::Chunk> EventStream::NextLocked(std::uint64_t after_seq,
                                                          bool have_position) const {
  if (!started_) return std::nullopt;
  if (have_position && after_seq == seq_) return std::nullopt;
  const std::uint64_t oldest = seq_ + 1 - deltas_.size();  // the first delta kept
  if (have_position && after_seq < seq_ && after_seq + 1 >= oldest) {
    const std::uint64_t next = after_seq + 1;
    return Chunk{deltas_[next - oldest], next};
  }
  if (snapshot_ == nullptr) {
    snapshot_ = std::make_shared<const std::string>(Event(Id(seq_), "snapshot", Dump(state_)));
  }
  return Chunk{snapshot_, seq_};
}

bool EventStream::WaitAfter(std::uint64_t after_seq, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return closed_ || (started_ && seq_ != after_seq); });
  return !closed_ && started_ && seq_ != after_seq;
}

void EventStream::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool EventStream::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::uint64_t EventStream::seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

std::uint64_t EventStream::delta_bytes() const {
  std::lock_guard lock(mu_);
  return delta_bytes_;
}

}  // namespace gpupool::server
