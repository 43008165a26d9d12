// Control of the recording path (the producer side lives in recorder.cc, behind the public
// functions of huoyan.h). Used by the host collector and the profiler, never by producers.
#pragma once

#include <cstdint>

namespace huoyan::recording {

// Which clock producers read: the cycle counter (records flagged kTicks, converted by the drain
// thread) or CLOCK_MONOTONIC ns. Set before recording is switched on.
void set_clock_tsc(bool tsc);
bool clock_is_tsc();

// Switches every producer on or off (detail::g_recording).
void set_recording(bool on);

// Receives step begin/end notifications on the launching thread (Collector::on_step_begin/end).
// set_step_hook(nullptr, nullptr) removes it and returns once no call is in flight, so the
// context may be destroyed afterwards.
using StepHook = void (*)(void* context, uint64_t step, bool begin);
void set_step_hook(StepHook hook, void* context);

}  // namespace huoyan::recording
