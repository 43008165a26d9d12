#include "server/scheduler.h"

#include <huoyan/huoyan.h>

#include <algorithm>
#include <utility>

#include "model/config.h"
#include "model/tokenizer.h"

namespace llm_server {

Scheduler::Scheduler(llm::Engine& engine, RequestQueue& queue, SchedulerOptions options)
    : engine_(engine), queue_(queue), options_(options), block_size_(engine.config().block_size) {}

void Scheduler::run(const std::atomic<bool>& stop) {
  huoyan::set_thread_name("scheduler");
  while (!stop.load(std::memory_order_acquire)) step(std::chrono::milliseconds(20));
}

Plan Scheduler::step(std::chrono::microseconds idle_wait) {
  // Idle: wait for work outside select_batch, so its span times scheduling, not idleness.
  if (waiting_.empty() && running_.empty() && incoming_.empty()) {
    queue_.pop_all(&incoming_, idle_wait);
  }
  Plan plan = select_batch();
  if (plan.empty()) return plan;

  std::vector<huoyan::StepEntry> members;
  members.reserve(plan.seqs.size());
  for (const ScheduledSeq& s : plan.seqs) {
    members.push_back({s.request->id, static_cast<uint32_t>(s.tokens)});
  }
  const int free_before = engine_.free_blocks();
  {
    huoyan::StepScope step(members);
    const llm::Batch batch = prepare_inputs(plan);
    llm::StepOutput out;
    {
      HUOYAN_SCOPE("forward");
      // The step id travels with every kernel slice to the worker threads (observer context).
      out = engine_.forward(batch, step.id());
    }
    for (const ScheduledSeq& s : plan.seqs) s.request->cached += s.tokens;
    process_outputs(plan, out);
  }
  steps_.fetch_add(1, std::memory_order_relaxed);
  if (on_step) on_step(plan, free_before);
  return plan;
}

bool Scheduler::submit(std::shared_ptr<Request> request, int limit) {
  int n = queued_.load(std::memory_order_relaxed);
  do {
    if (n >= limit) return false;
  } while (!queued_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  queue_.push(std::move(request));
  return true;
}

void Scheduler::intake() {
  queue_.pop_all(&incoming_, std::chrono::microseconds(0));
  for (std::shared_ptr<Request>& r : incoming_) {
    r->seq = next_seq_++;
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    waiting_.push_back(std::move(r));
  }
  incoming_.clear();
}

Plan Scheduler::select_batch() {
  HUOYAN_SCOPE("select_batch");
  intake();

  // Requests whose client went away leave first, returning their blocks.
  for (size_t i = 0; i < running_.size();) {
    if (running_[i]->channel.cancelled()) {
      finish(*running_[i], FinishReason::kCancelled);  // erases running_[i]
    } else {
      ++i;
    }
  }
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if ((*it)->channel.cancelled()) {
      std::shared_ptr<Request> r = std::move(*it);
      it = waiting_.erase(it);
      finish(*r, FinishReason::kCancelled);
    } else {
      ++it;
    }
  }

  Plan plan;
  int budget = options_.max_batch_tokens;
  // Running requests continue, oldest first; preemption takes the newest.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Request& r = *running_[i];
    const int n = std::min(r.known() - r.cached, budget);
    const int need = blocks_for(r.cached + n) - blocks_for(r.cached);
    if (need > engine_.free_blocks() - plan.blocks) {
      std::shared_ptr<Request> victim = std::move(running_.back());
      running_.pop_back();
      preempt(std::move(victim));
      ++plan.preempted;
      continue;  // retry r with the freed blocks, unless r itself was the victim (loop ends)
    }
    plan.seqs.push_back({running_[i], r.cached, n, r.cached + n == r.known()});
    plan.tokens += n;
    plan.blocks += need;
    budget -= n;
    ++i;
  }

  // Admission, first come first served, only when nothing had to be preempted (admitting while
  // evicting would thrash).
  while (plan.preempted == 0 && budget > 0 && !waiting_.empty()) {
    Request& r = *waiting_.front();
    const int n = std::min(r.known(), budget);
    const int need = blocks_for(n);
    if (need > engine_.free_blocks() - plan.blocks) break;
    if (!r.admitted) {
      r.admitted = true;
      queued_.fetch_sub(1, std::memory_order_relaxed);
      huoyan::record_request_span(r.id, "queue_wait", r.arrival_ns, huoyan::now_ns());
    }
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    plan.seqs.push_back({running_.back(), 0, n, n == r.known()});
    plan.tokens += n;
    plan.blocks += need;
    budget -= n;
  }
  HUOYAN_COUNTER("running", running_.size());
  HUOYAN_COUNTER("waiting", waiting_.size());
  return plan;
}

llm::Batch Scheduler::prepare_inputs(const Plan& plan) const {
  HUOYAN_SCOPE("prepare_inputs");
  llm::Batch batch;
  batch.seqs.reserve(plan.seqs.size());
  for (const ScheduledSeq& s : plan.seqs) {
    const Request& r = *s.request;
    llm::SequenceInput in;
    in.seq_id = r.seq;
    in.start_pos = s.start;
    in.sample = s.sample;
    in.sampling = r.sampling;
    in.tokens.reserve(s.tokens);
    for (int i = s.start; i < s.start + s.tokens; ++i) in.tokens.push_back(r.token_at(i));
    batch.seqs.push_back(std::move(in));
  }
  return batch;
}

void Scheduler::process_outputs(const Plan& plan, const llm::StepOutput& out) {
  // The engine sampled on the device; here the tokens are taken and the stop rules applied.
  std::vector<std::pair<Request*, FinishReason>> sampled;
  {
    HUOYAN_SCOPE("sampling");
    size_t o = 0;
    for (const ScheduledSeq& s : plan.seqs) {
      if (!s.sample) continue;
      Request& r = *s.request;
      const llm::SequenceOutput& so = out.outputs.at(o++);
      if (so.seq_id != r.seq) throw std::logic_error("engine output out of batch order");
      if (r.output.empty()) huoyan::request_first_token(r.id);
      r.output.push_back(so.token);
      FinishReason reason = FinishReason::kNone;
      if (so.token == llm::kEosToken) {
        reason = FinishReason::kStop;
      } else if (static_cast<int>(r.output.size()) >= r.max_tokens ||
                 r.known() >= engine_.config().max_seq_len) {
        reason = FinishReason::kLength;
      }
      sampled.emplace_back(&r, reason);
    }
  }
  // Hand the tokens to the HTTP workers waiting for them (with --queue=locked, under the one
  // lock they all contend for, then one broadcast).
  HUOYAN_SCOPE("deliver");
  std::vector<RequestQueue::Delivery> deliveries;
  deliveries.reserve(sampled.size());
  for (auto& [r, reason] : sampled) {
    std::string piece;
    {
      HUOYAN_REQUEST_SCOPE("detokenize", r->id);
      piece = llm::decode(std::span<const int32_t>(&r->output.back(), 1));
    }
    if (reason != FinishReason::kNone) retire(*r);
    deliveries.push_back({&r->channel, std::move(piece), reason});
  }
  // The plan holds every request, so the channels outlive the delivery.
  queue_.deliver(deliveries);
}

void Scheduler::preempt(std::shared_ptr<Request> r) {
  HUOYAN_INSTANT("preempt");
  engine_.release(r->seq);
  r->cached = 0;
  ++r->preemptions;
  // Victims are taken newest first, so pushing each to the front keeps the oldest preempted
  // request at the head of the line.
  waiting_.push_front(std::move(r));
}

void Scheduler::finish(Request& r, FinishReason reason) {
  retire(r);
  r.channel.finish(reason);
}

void Scheduler::retire(Request& r) {
  engine_.release(r.seq);
  if (!r.admitted) queued_.fetch_sub(1, std::memory_order_relaxed);
  r.admitted = true;
  huoyan::request_finish(r.id, r.output.size());
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const std::shared_ptr<Request>& p) { return p.get() == &r; });
  if (it != running_.end()) running_.erase(it);
}

}  // namespace llm_server
