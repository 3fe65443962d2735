#include "inkwell/batch_pipeline.hpp"

#include <oneapi/tbb/flow_graph.h>

#include <atomic>

#include "inkwell/error.hpp"

namespace inkwell {

namespace flow = tbb::flow;

void run_batches(int64_t first, int64_t end, int depth, const std::function<void(int64_t, int)>& fill,
                 const std::function<bool(int64_t, int)>& consume) {
  if (depth < 0) throw error("batch pipeline depth must be >= 0, got ", depth);
  if (depth == 0) {
    for (int64_t k = first; k < end; ++k) {
      fill(k, 0);
      if (!consume(k, 0)) return;
    }
    return;
  }
  std::atomic<bool> stopped{false};
  int64_t next = first;
  flow::graph g;
  flow::input_node<int64_t> planner(g, [&](tbb::flow_control& fc) -> int64_t {
    if (next >= end || stopped.load()) {
      fc.stop();
      return 0;
    }
    return next++;
  });
  flow::limiter_node<int64_t> limiter(g, static_cast<size_t>(depth));
  flow::function_node<int64_t, int64_t> filler(g, flow::unlimited, [&](int64_t k) {
    if (!stopped.load()) fill(k, static_cast<int>(k % depth));
    return k;
  });
  flow::sequencer_node<int64_t> sequencer(g, [first](int64_t k) { return static_cast<size_t>(k - first); });
  flow::function_node<int64_t, flow::continue_msg> consumer(g, flow::serial, [&](int64_t k) {
    if (!stopped.load() && !consume(k, static_cast<int>(k % depth))) stopped = true;
    return flow::continue_msg();
  });
  flow::make_edge(planner, limiter);
  flow::make_edge(limiter, filler);
  flow::make_edge(filler, sequencer);
  flow::make_edge(sequencer, consumer);
  flow::make_edge(consumer, limiter.decrementer());
  planner.activate();
  g.wait_for_all();  // rethrows what a body threw
}

}  // namespace inkwell
