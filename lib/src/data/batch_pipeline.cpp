#include "inkwell/data/batch_pipeline.hpp"

#include <oneapi/tbb/concurrent_queue.h>
#include <oneapi/tbb/flow_graph.h>

#include <atomic>
#include <exception>
#include <vector>

#include "inkwell/core/error.hpp"

namespace inkwell {

namespace flow = tbb::flow;

namespace {

// The pipeline's nodes and edges.
struct Graph {
  flow::graph g;
  flow::input_node<int64_t> planner;
  flow::limiter_node<int64_t> limiter;
  flow::function_node<int64_t, int64_t> filler;
  flow::sequencer_node<int64_t> sequencer;
  flow::function_node<int64_t> deliver;

  Graph(int64_t first, int depth, const std::function<int64_t(tbb::flow_control&)>& plan,
        const std::function<int64_t(int64_t)>& fill, const std::function<void(int64_t)>& deliver_body)
      : planner(g, plan), limiter(g, static_cast<size_t>(depth)), filler(g, flow::unlimited, fill),
        sequencer(g, [first](int64_t k) { return static_cast<size_t>(k - first); }),
        deliver(g, flow::serial, deliver_body) {
    flow::make_edge(planner, limiter);
    flow::make_edge(limiter, filler);
    flow::make_edge(filler, sequencer);
    flow::make_edge(sequencer, deliver);
  }
};

}  // namespace

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
  std::vector<std::exception_ptr> failed(depth);  // a fill's exception, by slot
  tbb::concurrent_bounded_queue<int64_t> ready;   // filled batches, in order
  int64_t next = first;

  auto plan = [&](tbb::flow_control& fc) -> int64_t {
    if (next >= end || stopped.load()) {
      fc.stop();
      return 0;
    }
    return next++;
  };
  auto fill_one = [&](int64_t k) {
    const int slot = static_cast<int>(k % depth);
    failed[slot] = nullptr;
    try {
      if (!stopped.load()) fill(k, slot);
    } catch (...) {
      failed[slot] = std::current_exception();
    }
    return k;
  };
  auto deliver = [&](int64_t k) { ready.push(k); };

  Graph graph(first, depth, plan, fill_one, deliver);
  graph.planner.activate();

  // The steps run here, on the calling thread: oneDNN's OpenMP team keeps one master thread.
  // Waiting for a batch is wait_for_all, which runs the graph's tasks on this thread too: with
  // one CPU (taskset, a one-CPU container, an MPI rank bound to a core) the arena has no worker,
  // and a blocking pop would wait forever for fills nobody runs.
  std::exception_ptr failure;
  for (int64_t k = first; k < end && !failure; ++k) {
    int64_t got;
    if (!ready.try_pop(got)) {
      graph.g.wait_for_all();  // returns when the graph is idle: every planned batch is delivered
      if (!ready.try_pop(got)) throw error("batch pipeline: batch ", k, " was never delivered");
    }
    // got == k: the sequencer keeps order
    const int slot = static_cast<int>(got % depth);
    try {
      if (failed[slot]) std::rethrow_exception(failed[slot]);
      if (!consume(got, slot)) break;
    } catch (...) {
      failure = std::current_exception();
    }
    graph.limiter.decrementer().try_put(flow::continue_msg());
  }
  stopped = true;
  graph.g.wait_for_all();  // batches still filling finish (and are dropped)
  if (failure) std::rethrow_exception(failure);
}

}  // namespace inkwell
