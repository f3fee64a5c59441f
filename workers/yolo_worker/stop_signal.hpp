// Cooperative cancellation: SIGINT and SIGTERM only set a flag; the frame loop checks it after
// each frame, writes a partial result and the worker exits 128 + signal (130 / 143).
#pragma once

namespace yolo {

// Installs the handlers (without SA_RESTART, so a blocking read returns EINTR) and ignores
// SIGPIPE, so a host that closes our stdout gets an exit code rather than a silent death.
void install_stop_handlers();

// 0 while no stop was requested, else the signal number that asked for it.
int stop_signal();

}  // namespace yolo
