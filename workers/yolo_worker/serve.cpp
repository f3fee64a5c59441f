#include "serve.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "job.hpp"
#include "stop_signal.hpp"
#include "worker_error.hpp"

namespace yolo {

namespace {

using nlohmann::json;

// Reads stdin line by line while watching the stop flag: poll with a short timeout, because a
// signal may be delivered to one of OpenCV's threads and then never interrupts our read.
class LineReader {
 public:
  std::optional<std::string> next() {
    while (true) {
      if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (eof_) {
        if (buffer_.empty()) return std::nullopt;
        return std::exchange(buffer_, std::string());
      }
      if (stop_signal() != 0) return std::nullopt;
      pollfd fd{STDIN_FILENO, POLLIN, 0};
      const int ready = ::poll(&fd, 1, 100);
      if (ready <= 0) continue;  // timeout or EINTR: re-check the stop flag
      char chunk[4096];
      const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (n > 0) {
        buffer_.append(chunk, std::size_t(n));
      } else if (n == 0 || errno != EINTR) {
        eof_ = true;
      }
    }
  }

  // While a job runs: reads what stdin has without waiting, and takes the {"cancel": id} lines
  // out of what is buffered (job lines stay, in order). Returns their ids, dumped.
  std::vector<std::string> take_cancels() {
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    if (!eof_ && ::poll(&fd, 1, 0) > 0) {
      char chunk[4096];
      const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (n > 0)
        buffer_.append(chunk, std::size_t(n));
      else if (n == 0)
        eof_ = true;
    }
    std::vector<std::string> ids;
    std::string kept;
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line(buffer_.data() + start, nl - start);
      if (const auto id = cancel_id(line)) {
        ids.push_back(*id);
      } else {
        kept.append(line);
        kept.push_back('\n');
      }
    }
    kept.append(buffer_, start, std::string::npos);
    buffer_ = std::move(kept);
    return ids;
  }

  // The id of a {"cancel": id} line, dumped; nullopt for any other line.
  static std::optional<std::string> cancel_id(std::string_view line) {
    if (line.find("\"cancel\"") == std::string_view::npos) return std::nullopt;
    const json j = json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("cancel") || j.contains("id")) return std::nullopt;
    return j["cancel"].dump();
  }

 private:
  std::string buffer_;
  bool eof_ = false;
};

WorkerError bad_job(const std::string& message) {
  return WorkerError(
      "BadJob", message + R"( (expected {"id":1,"input":"...","output":"...","max_frames":N}))",
      kExitBadArguments);
}

Job parse_job(const json& line, const Options& options) {
  Job job;
  job.model = options.model;
  job.input_size = options.size;
  job.progress_every = options.progress_every;
  job.max_frames = options.max_frames;
  job.decode = options.decode();
  job.slow_pct = options.slow_pct;
  const auto text = [&](const char* key) {
    if (!line.contains(key) || !line[key].is_string() || line[key].get<std::string>().empty()) {
      throw bad_job(std::string("job field \"") + key + "\" must be a non-empty string");
    }
    return line[key].get<std::string>();
  };
  job.input = text("input");
  job.output = text("output");
  if (line.contains("max_frames")) {
    if (!line["max_frames"].is_number_integer() || line["max_frames"].get<long>() < 1) {
      throw bad_job("job field \"max_frames\" must be a positive integer");
    }
    job.max_frames = line["max_frames"].get<int>();
  }
  for (const char* key : {"conf", "iou"}) {
    if (!line.contains(key)) continue;
    if (!line[key].is_number() || line[key].get<double>() < 0 || line[key].get<double>() > 1) {
      throw bad_job(std::string("job field \"") + key + "\" must be a number in [0, 1]");
    }
    (std::string(key) == "conf" ? job.decode.conf_threshold : job.decode.iou_threshold) =
        line[key].get<float>();
  }
  return job;
}

// Ids of jobs a {"cancel"} line named before they ran (bounded: a cancel for a finished or
// unknown job is forgotten after a while).
class CancelSet {
 public:
  void add(std::string id) {
    if (ids_.size() >= 1000) ids_.erase(ids_.begin());
    ids_.push_back(std::move(id));
  }
  bool take(const std::string& id) {
    const auto it = std::find(ids_.begin(), ids_.end(), id);
    if (it == ids_.end()) return false;
    ids_.erase(it);
    return true;
  }

 private:
  std::vector<std::string> ids_;
};

void handle_line(const std::string& text, const Options& options, Detector& detector,
                 Events& events, LineReader& reader, CancelSet& cancels) {
  if (const auto id = LineReader::cancel_id(text)) {
    cancels.add(*id);  // for a job still to come; one that ran already is not running now
    return;
  }
  json line;
  try {
    line = json::parse(text);
    if (!line.is_object()) throw bad_job("a job line must be a JSON object");
    if (!line.contains("id") || line["id"].is_null()) throw bad_job("job has no \"id\"");
  } catch (const json::parse_error& e) {
    events.error(bad_job(std::string("cannot parse job line as JSON: ") + e.what()));
    return;
  } catch (const WorkerError& e) {
    events.error(e);
    return;
  }
  events.set_job(line["id"]);
  const std::string id = line["id"].dump();
  if (cancels.take(id)) {  // cancelled while it waited in the queue: never started
    events.emit({{"event", "result"}, {"status", "cancelled"}, {"frames_processed", 0}});
    events.clear_job();
    return;
  }
  try {
    Job job = parse_job(line, options);
    job.cancel_requested = [&reader, &cancels, id] {
      bool mine = false;
      for (auto& c : reader.take_cancels()) {
        if (c == id)
          mine = true;
        else
          cancels.add(std::move(c));
      }
      return mine;
    };
    auto source = FrameSource::open(job.input);
    check_output_writable(job.output);
    run_job(job, *source, detector, events);
  } catch (const WorkerError& e) {
    if (e.exit_code() == kExitModel) {
      events.clear_job();
      throw;
    }
    events.error(e);
  }
  events.clear_job();
}

}  // namespace

int serve(const Options& options, Detector& detector, Events& events) {
  LineReader reader;
  CancelSet cancels;
  while (const auto line = reader.next()) {
    if (line->find_first_not_of(" \t\r") == std::string::npos) continue;
    handle_line(*line, options, detector, events, reader, cancels);
    if (stop_signal() != 0) break;
  }
  return stop_signal() != 0 ? 128 + stop_signal() : kExitSuccess;
}

}  // namespace yolo
