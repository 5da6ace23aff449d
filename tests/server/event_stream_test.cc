// EventStream: deltas name only what changed; resuming replays the kept deltas, or gives a fresh
// snapshot when the id is unknown, too old, from the future or of another epoch.
#include "server/event_stream.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

namespace gpupool::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json State(int total, const json& nodes) {
  return json{{"pool", {{"total", total}}}, {"nodes", nodes}};
}

// The JSON of a chunk's data line, and its event type.
json Data(const EventStream::Chunk& c) {
  const std::string& t = *c.text;
  const auto at = t.find("data: ");
  return json::parse(t.substr(at + 6, t.find('\n', at) - at - 6));
}
std::string Type(const EventStream::Chunk& c) {
  const std::string& t = *c.text;
  const auto at = t.find("event: ");
  return t.substr(at + 7, t.find('\n', at) - at - 7);
}

TEST(EventStreamTest, NothingBeforeTheFirstStateThenItsSnapshot) {
  EventStream s(7, 4);
  EXPECT_FALSE(s.Next("").has_value());
  EXPECT_FALSE(s.Publish(State(8, {{"a", {{"used", 0}}}})));  // the first state adds no delta
  const auto c = s.Next("");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(Type(*c), "snapshot");
  EXPECT_EQ(c->seq, 0u);
  EXPECT_EQ(c->text->rfind("id: 7-0\n", 0), 0u);
  EXPECT_EQ(Data(*c), State(8, {{"a", {{"used", 0}}}}));
  EXPECT_FALSE(s.Next(0).has_value());  // up to date
}

TEST(EventStreamTest, DeltaNamesOnlyWhatChangedAndNullForWhatIsGone) {
  EventStream s(1, 8);
  s.Publish(State(8, {{"a", {{"used", 0}}}, {"b", {{"used", 0}}}}));
  EXPECT_FALSE(s.Publish(State(8, {{"a", {{"used", 0}}}, {"b", {{"used", 0}}}})));  // same: none
  // b changes, a is gone, c is new; the pool is the same.
  EXPECT_TRUE(s.Publish(State(8, {{"b", {{"used", 500}}}, {"c", {{"used", 0}}}})));
  const auto c = s.Next(0);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(Type(*c), "delta");
  EXPECT_EQ(c->seq, 1u);
  EXPECT_EQ(Data(*c),
            (json{{"nodes", {{"a", nullptr}, {"b", {{"used", 500}}}, {"c", {{"used", 0}}}}}}));
  // The pool changes alone: replaced whole.
  EXPECT_TRUE(s.Publish(State(4, {{"b", {{"used", 500}}}, {"c", {{"used", 0}}}})));
  EXPECT_EQ(Data(*s.Next(1)), (json{{"pool", {{"total", 4}}}}));
}

TEST(EventStreamTest, ResumesFromLastEventIdOrSendsASnapshot) {
  EventStream s(42, 2);  // keeps 2 deltas
  s.Publish(State(0, json::object()));
  for (int i = 1; i <= 3; ++i) s.Publish(State(i, json::object()));  // deltas 1, 2, 3
  EXPECT_EQ(s.seq(), 3u);
  // After 2: delta 3. After 1: delta 2 (kept: 2 and 3).
  EXPECT_EQ(Type(*s.Next("42-2")), "delta");
  EXPECT_EQ(s.Next("42-2")->seq, 3u);
  EXPECT_EQ(Data(*s.Next("42-1")), (json{{"pool", {{"total", 2}}}}));
  // After 0: delta 1 is gone; a snapshot of 3 instead. Also for the future, another epoch, junk.
  for (const char* id : {"42-0", "42-9", "41-2", "42-", "-2", "42-2x", "x", ""}) {
    const auto c = s.Next(id);
    ASSERT_TRUE(c.has_value()) << id;
    EXPECT_EQ(Type(*c), "snapshot") << id;
    EXPECT_EQ(c->seq, 3u) << id;
    EXPECT_EQ(Data(*c), State(3, json::object())) << id;
  }
  EXPECT_FALSE(s.Next("42-3").has_value());  // up to date
}

TEST(EventStreamTest, AClientApplyingDeltasHoldsTheState) {
  EventStream s(3, 100);
  json held;
  s.Publish(State(1, {{"a", {{"u", 1}}}}));
  auto c = s.Next("");
  held = Data(*c);
  std::uint64_t at = c->seq;
  const json states[] = {State(1, {{"a", {{"u", 2}}}}),
                         State(2, {{"a", {{"u", 2}}}, {"b", {{"u", 0}}}}),
                         State(2, {{"b", {{"u", 1}}}})};
  for (const json& st : states) s.Publish(st);
  while (auto d = s.Next(at)) {
    const json delta = Data(*d);
    for (const auto& [section, v] : delta.items()) {
      if (section != "nodes") {
        held[section] = v;
        continue;
      }
      for (const auto& [k, n] : v.items()) {
        if (n.is_null()) {
          held["nodes"].erase(k);
        } else {
          held["nodes"][k] = n;
        }
      }
    }
    at = d->seq;
  }
  EXPECT_EQ(held, states[2]);
}

TEST(EventStreamTest, WaitWakesOnPublishAndOnClose) {
  EventStream s(1, 4);
  s.Publish(State(0, json::object()));
  EXPECT_FALSE(s.WaitAfter(0, 10ms));  // nothing new
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    s.Publish(State(1, json::object()));
  });
  EXPECT_TRUE(s.WaitAfter(0, 10s));
  t.join();
  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    s.Close();
  });
  EXPECT_FALSE(s.WaitAfter(1, 10s));
  closer.join();
  EXPECT_TRUE(s.closed());
}

TEST(EventStreamTest, HeartbeatHasNoId) {
  EXPECT_EQ(EventStream::Heartbeat(5), "event: heartbeat\ndata: {\"time_ms\":5}\n\n");
}

}  // namespace
}  // namespace gpupool::server
