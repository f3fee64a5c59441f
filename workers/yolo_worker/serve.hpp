// Persistent mode: the model is loaded once, then each stdin line is a job
//   {"id": 1, "input": "...", "output": "...", "max_frames": N, "conf": 0.25, "iou": 0.45}
// (id, input and output required; id may be any JSON value and is echoed as "job" on every
// event of that job). A bad line or a failing job yields an error event and the worker goes on.
// A {"cancel": id} line stops that job: read between frames while it runs (it ends after the
// current frame with a "cancelled" result), or remembered for a job still queued (answered
// "cancelled" without running); a cancel for no such job is ignored.
// EOF ends the worker with exit 0; SIGINT/SIGTERM cancel the running job (cancelled result)
// and end it with 130/143. Model errors end it with exit 4.
#pragma once

#include "events.hpp"
#include "options.hpp"

namespace yolo {

class Detector;

int serve(const Options& options, Detector& detector, Events& events);

}  // namespace yolo
