// EventStream: the live feed behind GET /api/v1/events/stream (Server-Sent Events; docs/api.md).
// It knows nothing of HTTP or of the pool: a publisher hands it the whole state now and then, it
// keeps what a client needs to follow that state, and each client reads from it at its own pace.
//
// The state is a JSON object of sections. A section whose value is an object of objects (e.g.
// "nodes": {"h100-0": {...}, ...}) is followed per member; any other section (e.g. "pool") is
// followed whole. Publish compares the new state with the last one and, when something differs,
// appends one delta:
//   {"pool": NEW_VALUE, "nodes": {"h100-0": NEW_NODE, "gone-node": null}}
// naming only what changed (a member that is gone is null). A client that applies the deltas in
// order to the snapshot holds the state of the last delta's id.
//
// Event ids are "EPOCH-SEQ": EPOCH identifies this stream (one per service start), SEQ counts the
// deltas (the snapshot of SEQ reflects every delta up to SEQ). Read(after) answers the deltas after
// `after` when they are all still kept (the last `capacity` deltas are), otherwise a fresh snapshot
// (an unknown or malformed id, another epoch, an id too old or from the future): a client never
// misses a change without being told the whole state again.
//
// Ownership and threads: every method may be called from any thread. Publish's work (the
// comparison, the serialisation of the delta) is done by the publisher's thread under the stream's
// own lock; readers copy shared pointers to finished text under that lock and never wait for each
// other or for the publisher beyond it, and a publisher never waits for a reader. Close wakes every
// waiting reader for good (a server that stops).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gpupool::server {

class EventStream {
 public:
  // `epoch`: any value that differs between two streams a client could meet at one address (the
  // service's start time in ms). `capacity`: how many deltas are kept for resuming (at least 1).
  EventStream(std::int64_t epoch, std::size_t capacity);

  // Takes the whole state (an object of sections). The first call sets the snapshot and adds no
  // delta; later calls add one delta when the state differs, none when it is the same. Returns
  // whether a delta was added.
  bool Publish(nlohmann::json state);

  // One piece of the stream, already in the wire format ("id: ...\nevent: ...\ndata: ...\n\n").
  struct Chunk {
    std::shared_ptr<const std::string> text;
    std::uint64_t seq = 0;  // the state a client holds once it has applied this chunk
  };
  // What a client that holds the state of `after` reads next: nothing (std::nullopt) when it is
  // up to date, the next delta when it is kept, else a snapshot. `after` is a Last-Event-ID as
  // sent ("" or malformed: a snapshot). Also answers std::nullopt before the first Publish.
  std::optional<Chunk> Next(std::string_view after) const;
  // The same after a sequence number of this stream's epoch.
  std::optional<Chunk> Next(std::uint64_t after_seq) const;
  // Waits until there is something after `after_seq`, `timeout` passes or the stream is closed;
  // true when there is something.
  bool WaitAfter(std::uint64_t after_seq, std::chrono::milliseconds timeout) const;

  // The id of the state `seq` ("EPOCH-SEQ").
  std::string Id(std::uint64_t seq) const;
  // The sequence number of a Last-Event-ID of this epoch, std::nullopt for anything else.
  std::optional<std::uint64_t> ParseId(std::string_view id) const;
  // A heartbeat, in the wire format (an event without id: it does not move a client's position).
  static std::string Heartbeat(std::int64_t now_ms);

  void Close();
  bool closed() const;
  std::uint64_t seq() const;
  // Deltas published so far, and the bytes of their text (the wire format), for the closing note.
  std::uint64_t delta_bytes() const;

 private:
  std::optional<Chunk> NextLocked(std::uint64_t after_seq, bool have_position) const;

  const std::int64_t epoch_;
  const std::size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool closed_ = false;
  bool started_ = false;
  std::uint64_t seq_ = 0;
  nlohmann::json state_;
  // Deltas seq_ - deltas_.size() + 1 .. seq_, oldest first.
  std::deque<std::shared_ptr<const std::string>> deltas_;
  // The snapshot of seq_, built when a reader first needs it after a change.
  mutable std::shared_ptr<const std::string> snapshot_;
  std::uint64_t delta_bytes_ = 0;
};

}  // namespace gpupool::server
