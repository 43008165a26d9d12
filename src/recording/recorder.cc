// The producer side: what the public recording functions and macros do on the calling thread.
//
// Contract of every function here: no lock, no allocation and no system call on the hot path
// (after the thread's first record, which creates its buffer); a record that does not fit is
// dropped and counted. Steps take a shared lock only to notify collectors that asked for it.
#include <pthread.h>
#include <unistd.h>

#include <bit>
#include <memory>
#include <shared_mutex>

#include "huoyan/huoyan.h"
#include "src/collect/clock.h"
#include "src/recording/record.h"
#include "src/recording/recorder.h"
#include "src/recording/thread_buffer.h"

namespace huoyan {

namespace detail {
std::atomic<bool> g_recording{false};
}  // namespace detail

namespace recording {
namespace {

std::atomic<bool> g_use_tsc{false};
std::atomic<uint64_t> g_next_step{1};

std::atomic<bool> g_hook_set{false};
std::shared_mutex g_hook_mu;
StepHook g_hook = nullptr;  // guarded by g_hook_mu
void* g_hook_context = nullptr;

// Initial-exec: the static library is linked into the executable (or a library loaded at
// start), so thread-locals are read at a fixed offset, without a __tls_get_addr call.
#define HUOYAN_TLS __attribute__((tls_model("initial-exec")))
thread_local ThreadBuffer* tls_buffer HUOYAN_TLS = nullptr;
thread_local uint64_t tls_step HUOYAN_TLS = 0;
thread_local bool tls_exiting HUOYAN_TLS = false;

// Hands the thread's buffer over to the registry when the thread exits; its records are
// drained later (the buffer outlives the thread).
struct ThreadExit {
  std::shared_ptr<ThreadBuffer> buffer;
  ~ThreadExit() {
    tls_exiting = true;
    tls_buffer = nullptr;
    if (buffer) Registry::get().thread_exited(buffer);
  }
};
thread_local ThreadExit tls_exit;

std::string os_thread_name() {
  char name[64] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

[[gnu::noinline]] ThreadBuffer* create_buffer() {
  if (tls_exiting) return nullptr;  // recording from a thread-local destructor after ours
  auto buffer = std::make_shared<ThreadBuffer>(getpid(), gettid(), os_thread_name());
  tls_exit.buffer = buffer;  // first use: constructs it and registers its destructor
  Registry::get().add(buffer);
  tls_buffer = buffer.get();
  return tls_buffer;
}

inline ThreadBuffer* buffer() {
  ThreadBuffer* b = tls_buffer;
  return __builtin_expect(b != nullptr, 1) ? b : create_buffer();
}

inline uint64_t now_ticks() {
  return g_use_tsc.load(std::memory_order_relaxed) ? read_cycle_counter()
                                                   : static_cast<uint64_t>(monotonic_ns());
}
inline uint8_t clock_flag() {
  return g_use_tsc.load(std::memory_order_relaxed) ? record_flags::kTicks : 0;
}

inline uint32_t payload_slots(size_t bytes) {
  return static_cast<uint32_t>((bytes + kSlotBytes - 1) / kSlotBytes);
}

// Writes one record: the header, then `payload_bytes` written by fill(PayloadWriter&).
template <typename Fill>
void emit(ThreadBuffer* b, RecordHeader h, size_t payload_bytes, Fill&& fill) {
  const uint32_t slots = payload_slots(payload_bytes);
  b->ensure_ring();
  uint64_t pos;
  if (slots + 1 > b->max_record_slots()) {
    b->count_drop();
    return;
  }
  if (!b->reserve(1 + slots, &pos)) return;
  h.payload_slots = static_cast<uint16_t>(slots);
  b->write_header(pos, h);
  PayloadWriter w(b->ring(), b->ring_size(), (pos + 1) * kSlotBytes);
  fill(w);
  b->publish();
}

inline void emit_header(ThreadBuffer* b, const RecordHeader& h) {
  uint64_t pos;
  if (!b->reserve(1, &pos)) return;
  b->write_header(pos, h);
  b->publish();
}

void notify_step(uint64_t step, bool begin) {
  if (!g_hook_set.load(std::memory_order_acquire)) return;
  std::shared_lock lock(g_hook_mu);
  if (g_hook != nullptr) g_hook(g_hook_context, step, begin);
}

// A step's members, as several records when the list is longer than one record may be.
void write_members(ThreadBuffer* b, uint64_t step, uint64_t start,
                   std::span<const StepEntry> members) {
  b->ensure_ring();
  const size_t limit = (size_t{b->max_record_slots()} - 1) * kSlotBytes;
  size_t i = 0;
  do {
    size_t bytes = 4;
    size_t j = i;
    while (j < members.size() && (j == i || bytes + 4 + str_size(members[j].request_id) <= limit)) {
      bytes += 4 + str_size(members[j].request_id);
      ++j;
    }
    const RecordHeader h{start, 0, step, 0, RecordKind::kStepMembers, clock_flag(), 0};
    emit(b, h, bytes, [&](PayloadWriter& w) {
      w.pod(static_cast<uint32_t>(j - i));
      for (size_t k = i; k < j; ++k) {
        w.pod(members[k].tokens);
        w.str(members[k].request_id);
      }
    });
    i = j;
  } while (i < members.size());
}

void mark(MarkKind kind, std::string_view request_id, uint64_t tokens) {
  if (!detail::recording()) return;
  ThreadBuffer* b = buffer();
  if (b == nullptr) return;
  const uint8_t flags =
      record_flags::kHasRequest | clock_flag() |
      static_cast<uint8_t>(static_cast<uint8_t>(kind) << record_flags::kMarkShift);
  const RecordHeader h{now_ticks(), tokens, tls_step, 0, RecordKind::kRequestMark, flags, 0};
  emit(b, h, str_size(request_id), [&](PayloadWriter& w) { w.str(request_id); });
}

}  // namespace

void set_clock_tsc(bool tsc) { g_use_tsc.store(tsc, std::memory_order_relaxed); }
bool clock_is_tsc() { return g_use_tsc.load(std::memory_order_relaxed); }

void set_recording(bool on) { detail::g_recording.store(on, std::memory_order_release); }

void set_step_hook(StepHook hook, void* context) {
  std::unique_lock lock(g_hook_mu);
  g_hook = hook;
  g_hook_context = context;
  g_hook_set.store(hook != nullptr, std::memory_order_release);
}

}  // namespace recording

// ---------------------------------------------------------------------------------------------
// Public functions

using recording::RecordHeader;
using recording::RecordKind;
namespace record_flags = recording::record_flags;

int64_t now_ns() { return monotonic_ns(); }

void set_thread_name(std::string_view name) {
  if (recording::ThreadBuffer* b = recording::buffer()) b->set_name(name);
}

uint64_t current_step() { return recording::tls_step; }

void request_arrival(std::string_view request_id, uint64_t tokens_in) {
  recording::mark(recording::MarkKind::kArrival, request_id, tokens_in);
}
void request_first_token(std::string_view request_id) {
  recording::mark(recording::MarkKind::kFirstToken, request_id, 0);
}
void request_finish(std::string_view request_id, uint64_t tokens_out) {
  recording::mark(recording::MarkKind::kFinish, request_id, tokens_out);
}

void record_request_span(std::string_view request_id, std::string_view name, int64_t start_ns,
                         int64_t end_ns) {
  if (!detail::recording()) return;
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr) return;
  const RecordHeader h{static_cast<uint64_t>(start_ns),
                       static_cast<uint64_t>(end_ns),
                       recording::tls_step,
                       0,
                       RecordKind::kSpan,
                       record_flags::kHasRequest | record_flags::kHasName,
                       0};
  recording::emit(b, h, recording::str_size(request_id) + recording::str_size(name),
                  [&](recording::PayloadWriter& w) {
                    w.str(request_id);
                    w.str(name);
                  });
}

void record_kernel(const KernelRecord& k) {
  if (!detail::recording()) return;
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr) return;
  const std::span<const Attr> literal(k.attrs.begin(), k.attrs.size());
  const bool has_attrs = !literal.empty() || !k.attr_span.empty();
  const uint8_t flags = record_flags::kHasName | (has_attrs ? record_flags::kHasAttrs : 0);
  const RecordHeader h{static_cast<uint64_t>(k.start_ns),
                       static_cast<uint64_t>(k.end_ns),
                       k.step != 0 ? k.step : recording::tls_step,
                       0,
                       RecordKind::kKernel,
                       flags,
                       0};
  const size_t bytes = recording::str_size(k.name) + 1 + 4 + 8 +
                       (has_attrs ? recording::attrs_size(literal, k.attr_span) : 0);
  recording::emit(b, h, bytes, [&](recording::PayloadWriter& w) {
    w.str(k.name);
    w.pod(static_cast<uint8_t>(k.device_type));
    w.pod(k.device);
    w.pod(k.stream);
    if (has_attrs) w.attrs(literal, k.attr_span);
  });
}

SpanName::SpanName(std::string_view name) : id_(detail::register_site(name)) {}

namespace {
// The spans of begin_span() still open on this thread, innermost last. A slot with site 0 was
// opened while not recording: its end records nothing.
struct OpenSpan {
  uint32_t site;
  uint64_t start;
};
constexpr uint32_t kMaxOpenSpans = 32;
thread_local OpenSpan t_open_spans[kMaxOpenSpans];
thread_local uint32_t t_open_depth = 0;
}  // namespace

void begin_span(const SpanName& name) {
  const uint32_t depth = t_open_depth++;
  if (depth >= kMaxOpenSpans) return;
  t_open_spans[depth] =
      detail::recording() ? OpenSpan{name.id(), recording::now_ticks()} : OpenSpan{0, 0};
}

void end_span() {
  if (t_open_depth == 0) return;
  const uint32_t depth = --t_open_depth;
  if (depth >= kMaxOpenSpans || t_open_spans[depth].site == 0) return;
  const uint64_t end = recording::now_ticks();
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr) return;
  const OpenSpan& open = t_open_spans[depth];
  recording::emit_header(b, RecordHeader{open.start, end, recording::tls_step, open.site,
                                         RecordKind::kSpan, recording::clock_flag(), 0});
}

StepScope::StepScope(std::span<const StepEntry> members) {
  if (!detail::recording()) return;
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr) return;
  id_ = recording::g_next_step.fetch_add(1, std::memory_order_relaxed);
  outer_ = recording::tls_step;
  recording::tls_step = id_;
  start_ = recording::now_ticks();
  recording::write_members(b, id_, start_, members);
  recording::notify_step(id_, true);
}

StepScope::~StepScope() {
  if (id_ == 0) return;
  recording::notify_step(id_, false);
  const uint64_t end = recording::now_ticks();
  recording::tls_step = outer_;
  if (recording::ThreadBuffer* b = recording::buffer()) {
    recording::emit_header(
        b, RecordHeader{start_, end, id_, 0, RecordKind::kStepEnd, recording::clock_flag(), 0});
  }
}

namespace detail {

uint32_t register_site(std::string_view name) { return recording::SiteRegistry::get().add(name); }

uint64_t scope_begin() { return recording::now_ticks(); }

void counter(uint32_t site, double value) {
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr) return;
  recording::emit_header(
      b, RecordHeader{recording::now_ticks(), std::bit_cast<uint64_t>(value), recording::tls_step,
                      site, RecordKind::kCounter, recording::clock_flag(), 0});
}

void instant(uint32_t site) {
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr) return;
  recording::emit_header(b, RecordHeader{recording::now_ticks(), 0, recording::tls_step, site,
                                         RecordKind::kInstant, recording::clock_flag(), 0});
}

void Scope::attrs(std::initializer_list<Attr> attrs) {
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr || extra_size_ != 0) return;
  const std::span<const Attr> list(attrs.begin(), attrs.size());
  const size_t n = recording::attrs_size(list);
  // Too many attributes open at once: the span is recorded without these.
  if (b->scratch_top + n > recording::ThreadBuffer::kScratchBytes) return;
  recording::PayloadWriter w(b->scratch(), recording::ThreadBuffer::kScratchBytes, b->scratch_top);
  w.attrs(list);
  extra_offset_ = static_cast<uint16_t>(b->scratch_top);
  extra_size_ = static_cast<uint16_t>(n);
  extra_kind_ = record_flags::kHasAttrs;
  b->scratch_top += static_cast<uint32_t>(n);
}

void Scope::request(std::string_view request_id) {
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr || extra_size_ != 0) return;
  const size_t n = recording::str_size(request_id);
  if (b->scratch_top + n > recording::ThreadBuffer::kScratchBytes) return;
  recording::PayloadWriter w(b->scratch(), recording::ThreadBuffer::kScratchBytes, b->scratch_top);
  w.str(request_id);
  extra_offset_ = static_cast<uint16_t>(b->scratch_top);
  extra_size_ = static_cast<uint16_t>(n);
  extra_kind_ = record_flags::kHasRequest;
  b->scratch_top += static_cast<uint32_t>(n);
}

void Scope::finish() {
  const uint64_t end = recording::now_ticks();
  recording::ThreadBuffer* b = recording::buffer();
  if (b == nullptr) return;
  const RecordHeader h{start_,
                       end,
                       recording::tls_step,
                       site_,
                       RecordKind::kSpan,
                       static_cast<uint8_t>(recording::clock_flag() | extra_kind_),
                       0};
  if (extra_size_ == 0) {
    recording::emit_header(b, h);
    return;
  }
  recording::emit(b, h, extra_size_, [&](recording::PayloadWriter& w) {
    w.bytes(b->scratch() + extra_offset_, extra_size_);
  });
  b->scratch_top = extra_offset_;
}

}  // namespace detail
}  // namespace huoyan
