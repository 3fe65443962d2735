// The batch pipeline: a oneTBB flow graph that prepares batches in parallel, ahead of a consumer
// that takes them in order, one at a time. Training and evaluation both run on it:
//
//   planner (batch k = first, first+1, ...) -> limiter (depth in flight)
//     -> fill(k, slot)     parallel: read/decode, augment, normalise into the slot's buffers
//     -> sequencer (k order)
//     -> consume(k, slot)  serial: forward, loss, backward, optimizer step
//     -> limiter.decrement
//
// At most `depth` batches are between the planner and the end of consume, so they are always
// consecutive and slot k % depth is free when k enters: memory is depth batch buffers, whatever
// the dataset's size. Results do not depend on the schedule: fill(k) may only depend on k.
// depth 0 runs fill then consume in one loop on the calling thread (the serial baseline).
//
// consume returns false to stop: batches already filling are dropped, none after is planned.
// An exception from fill or consume stops the graph and is rethrown here, unchanged.
#pragma once

#include <cstdint>
#include <functional>

namespace inkwell {

void run_batches(int64_t first, int64_t end, int depth, const std::function<void(int64_t batch, int slot)>& fill,
                 const std::function<bool(int64_t batch, int slot)>& consume);

}  // namespace inkwell
