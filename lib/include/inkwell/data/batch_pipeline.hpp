// The batch pipeline: a oneTBB flow graph prepares batches in parallel, ahead of the calling
// thread, which consumes them in order. Training and evaluation both run on it:
//
//   planner (batch k = first, first+1, ...) -> limiter (depth in flight)
//     -> fill(k, slot)   parallel, TBB workers: read/decode, augment, normalise into the slot
//     -> sequencer (k order) -> ready queue
//   calling thread: consume(k, slot) for k in order (forward, loss, backward, optimizer step),
//     then limiter.decrement
//
// At most `depth` batches are between the planner and the end of consume, so they are always
// consecutive and slot k % depth is free when k enters: memory is depth batch buffers, whatever
// the dataset's size. Results do not depend on the schedule: fill(k) may only depend on k.
// consume runs on the calling thread, always the same one: oneDNN's OpenMP team keeps its master
// (a step run on whichever TBB worker took it made a second team that spun against the first:
// 17% slower than no pipeline at all). While it waits for a batch, the calling thread runs fills
// itself, so the pipeline makes progress with no TBB worker at all (one CPU). depth 0 runs fill
// then consume in turn on the calling thread (the serial baseline).
//
// consume returns false to stop: batches already filling are dropped, none after is planned.
// An exception from fill (for batch k, raised when k's turn comes) or from consume stops the
// pipeline and is rethrown here, unchanged.
#pragma once

#include <cstdint>
#include <functional>

namespace inkwell {

void run_batches(int64_t first, int64_t end, int depth, const std::function<void(int64_t batch, int slot)>& fill,
                 const std::function<bool(int64_t batch, int slot)>& consume);

}  // namespace inkwell
