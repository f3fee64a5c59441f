#!/usr/bin/python3
"""yolo_worker.py: a YOLOv8 detector on OpenCV DNN, the Python twin of workers/yolo_worker.

Needs only Debian 12's python3-opencv and python3-numpy (no pip). It reads the same ONNX models
as the C++ worker (output [1, 4+classes, N]) and speaks the same protocol (docs/protocol.md).

One-shot:  yolo_worker.py --model M --input IMAGE|VIDEO|FOLDER --output OUT.json
                          [--max-frames N] [--conf 0.25] [--iou 0.45] [--size 640] [--threads N]
Serve:     yolo_worker.py --serve --model M [same options]   (jobs on stdin, one JSON per line)

Protocol: one JSON object per stdout line, flushed at once; anything else goes to stderr.

    {"event":"started","worker":"yolo_worker.py","version":"1.0.0","pid":4242}
    {"event":"ready","load_ms":212.4,...}                       the model is loaded
    {"event":"progress","done":1,"total":100}                   after each frame
    {"event":"result","status":"success","frames_processed":100,"fps":8.1,"detections":311,...}
    {"event":"error","type":"InputNotFound","message":"..."}    also one line on stderr

The --output file is the C++ worker's result JSON: schema, worker, model, input, status,
frames_processed, fps, detections and per-frame boxes in original-image pixels.

In --serve mode the model is loaded once, then each stdin line is a job
{"id":1,"input":"...","output":"...","max_frames":K} (optional "conf", "iou"), answered by
events tagged "job": <id>, in order. A line that is not a job is an error event (type BadJob);
the worker goes on. {"cancel": <id>} cancels a job: the running one stops after its current
frame (stdin is polled between frames) with a "cancelled" result and a partial output file; a
queued one is answered "cancelled" at once and never runs; other ids are ignored. EOF exits 0.

Exit codes: 0 success, 1 internal error, 2 bad arguments, 3 input error, 4 model error,
5 output error, 130/143 after a clean stop on SIGINT/SIGTERM (result status "cancelled").
"""

import argparse
import collections
import json
import math
import os
import select
import signal
import sys
import time

stop_signal = 0  # set by SIGINT/SIGTERM, checked between frames: a clean stop, never mid-frame


def on_stop(signum, _frame):
    global stop_signal
    stop_signal = stop_signal or signum


signal.signal(signal.SIGINT, on_stop)  # before importing cv2, which takes a while
signal.signal(signal.SIGTERM, on_stop)

os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # OpenCV's warnings would clutter stderr
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
import cv2  # noqa: E402 (reads the environment set above)
import numpy as np  # noqa: E402

WORKER, VERSION = "yolo_worker.py", "1.0.0"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MAX_DETECTIONS = 300
COCO = ("person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
        "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
        "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
        "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
        "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
        "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
        "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
        "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
        "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator",
        "book", "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush")


class WorkerError(Exception):
    def __init__(self, type_, message, exit_code):
        super().__init__(message)
        self.type, self.exit_code = type_, exit_code


def round_half_up(value, decimals):  # like C++ std::round (Python's round() is banker's)
    f = 10 ** decimals
    return math.floor(value * f + 0.5) / f


class Events:
    """Writes protocol events to stdout; while `job` is set they carry "job": <id>."""

    job = None

    def emit(self, event, **fields):
        line = {"event": event, **fields}
        if self.job is not None:
            line["job"] = self.job
        sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    def error(self, e):
        self.emit("error", type=e.type, message=str(e))
        job = "" if self.job is None else " (job %s)" % json.dumps(self.job)
        print("%s: error: %s%s [%s]" % (WORKER, e, job, e.type), file=sys.stderr, flush=True)


# --- input ---------------------------------------------------------------------------------

def input_error(type_, message):
    return WorkerError(type_, message, 3)


def read_image(path):
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise input_error("InputCorrupt", "cannot decode image %s: not a readable "
                          "JPEG/PNG/BMP/WebP/TIFF file (corrupt or wrong extension)" % path)
    return image


class Frames:
    """The frames of an image, a folder of images or a video. Opening reads the first frame,
    so a bad input fails before the model is loaded."""

    def __init__(self, path):
        self.path, self.files = path, None
        if not os.path.exists(path):
            raise input_error("InputNotFound", "cannot open input %s: No such file or "
                              "directory (check the --input path)" % path)
        if os.path.isdir(path):
            self.kind = "directory"
            self.files = sorted(os.path.join(path, f) for f in os.listdir(path)
                                if f.lower().endswith(IMAGE_EXTENSIONS)
                                and os.path.isfile(os.path.join(path, f)))
            if not self.files:
                raise input_error("InputCorrupt", "directory %s holds no images" % path)
        else:
            try:
                open(path, "rb").close()
            except OSError as e:
                raise input_error("InputUnreadable", "cannot read input %s: %s (check its "
                                  "permissions)" % (path, e.strerror)) from None
            if os.path.getsize(path) == 0:
                raise input_error("InputCorrupt", "input %s is an empty file" % path)
            if path.lower().endswith(IMAGE_EXTENSIONS):
                self.kind, self.files = "image", [path]
        if self.files:
            self.total = len(self.files)
            self.first = read_image(self.files[0])
            return
        self.kind = "video"
        self.capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        if not self.capture.isOpened():
            raise input_error("InputCorrupt", "cannot open %s as a video: the file is corrupt, "
                              "truncated or not a video" % path)
        count = self.capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.total = int(count) if count > 0 else -1
        ok, self.first = self.capture.read()
        if not ok or self.first is None:
            raise input_error("InputCorrupt", "cannot read a frame from %s: the video is "
                              "corrupt or empty" % path)

    def __iter__(self):
        """Yields (frame, file name or None)."""
        if self.files:
            yield self.first, os.path.basename(self.files[0])
            for f in self.files[1:]:
                yield read_image(f), os.path.basename(f)
            return
        yield self.first, None
        read = 1
        while True:
            ok, frame = self.capture.read()
            if not ok or frame is None:
                if 0 < self.total and read < self.total:
                    raise input_error("InputCorrupt", "video %s ended after %d of the %d frames "
                                      "its header declares: the file is truncated"
                                      % (self.path, read, self.total))
                return
            read += 1
            yield frame, None


# --- model ---------------------------------------------------------------------------------

def model_error(type_, message):
    return WorkerError(type_, message, 4)


class Detector:
    def __init__(self, path, size):
        if not os.path.isfile(path):
            raise model_error("ModelNotFound", "cannot open model %s: No such file" % path)
        self.path, self.size = path, size
        start = time.monotonic()
        try:
            self.net = cv2.dnn.readNetFromONNX(path)
        except cv2.error as e:
            raise model_error("ModelCorrupt", "cannot load model %s: %s (the file is truncated "
                              "or not an ONNX model)" % (path, e.err)) from None
        self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self.outputs = self.net.getUnconnectedOutLayersNames()
        self.read_ms = (time.monotonic() - start) * 1000
        start = time.monotonic()
        self.forward(np.full((size, size, 3), 114, np.uint8))  # warm-up, as the C++ worker
        self.warmup_ms = (time.monotonic() - start) * 1000

    def forward(self, canvas):
        blob = cv2.dnn.blobFromImage(canvas, 1 / 255.0, swapRB=True, crop=False)
        try:
            self.net.setInput(blob)
            output = self.net.forward(self.outputs)[0]
        except cv2.error as e:
            raise model_error("ModelCorrupt", "forward pass of %s at %d failed: %s (is --size "
                              "what the model was exported for?)"
                              % (self.path, self.size, e.err)) from None
        if output.ndim != 3 or output.shape[0] != 1 or not 5 <= output.shape[1] < output.shape[2]:
            raise model_error("ModelOutputShape", "model %s: output %s is not YOLOv8 [1, "
                              "4+classes, N] (export with Ultralytics `format=onnx`)"
                              % (self.path, list(output.shape)))
        return output[0]

    def detect(self, image, conf, iou, agnostic):
        """Letterbox, forward, decode: [(class_id, confidence, x, y, w, h)] in image pixels."""
        h, w = image.shape[:2]
        scale = min(np.float32(self.size) / np.float32(h), np.float32(self.size) / np.float32(w))
        rw, rh = int(round_half_up(w * scale, 0)), int(round_half_up(h * scale, 0))
        # Ultralytics splits odd padding with the extra pixel at the bottom/right.
        left = int(round_half_up((self.size - rw) / 2 - 0.1, 0))
        top = int(round_half_up((self.size - rh) / 2 - 0.1, 0))
        if (rw, rh) != (w, h):
            image = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_LINEAR)
        canvas = cv2.copyMakeBorder(image, top, self.size - rh - top, left, self.size - rw - left,
                                    cv2.BORDER_CONSTANT, value=(114, 114, 114))
        out = self.forward(canvas)  # [4 + classes, N]: cx, cy, w, h, one score per class

        scores = out[4:]
        classes = scores.argmax(axis=0)
        confidences = scores[classes, np.arange(out.shape[1])]
        keep = (confidences >= conf) & (out[2] > 0) & (out[3] > 0)
        cx, cy, bw, bh = (out[i][keep].astype(np.float64) for i in range(4))
        boxes = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], axis=1)
        classes, confidences = classes[keep], confidences[keep]

        kept = []  # NMS per class (or over all of them), as the C++ worker
        for c in ([None] if agnostic else np.unique(classes)):
            members = np.arange(len(classes)) if c is None else np.flatnonzero(classes == c)
            survivors = cv2.dnn.NMSBoxes(boxes[members].tolist(),
                                         confidences[members].tolist(), conf, iou)
            kept.extend(members[np.asarray(survivors, dtype=int).reshape(-1)])
        kept = np.asarray(kept, dtype=int)
        kept = kept[np.argsort(-confidences[kept], kind="stable")][:MAX_DETECTIONS]

        detections = []
        for i in kept:  # back to original-image pixels, clipped to the image
            x, y, bw, bh = boxes[i]
            x0, x1 = (np.clip((v - left) / scale, 0, w) for v in (x, x + bw))
            y0, y1 = (np.clip((v - top) / scale, 0, h) for v in (y, y + bh))
            box = np.float32([x0, y0, x1 - x0, y1 - y0])  # float, as the C++ worker's Rect2f
            detections.append((int(classes[i]), float(confidences[i]), *box.tolist()))
        return detections


# --- jobs ----------------------------------------------------------------------------------

def output_error(message):
    return WorkerError("OutputError", message, 5)


def check_output_writable(output):
    if os.path.isdir(output):
        raise output_error("cannot write result to %s: it is a directory" % output)
    tmp = "%s.tmp.%d" % (output, os.getpid())
    try:
        open(tmp, "wb").close()
        os.remove(tmp)
    except OSError as e:
        raise output_error("cannot create %s: %s (does the --output folder exist and is it "
                           "writable?)" % (tmp, e.strerror)) from None


def write_atomically(output, result):
    tmp = "%s.tmp.%d" % (output, os.getpid())
    try:
        with open(tmp, "w") as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, output)
    except OSError as e:
        raise output_error("cannot write %s: %s" % (output, e.strerror)) from None


def run_job(job, source, detector, events, should_stop):
    """Runs one job over `source`, writes job["output"], emits progress and the result event.
    `should_stop()` is asked before each frame; True ends the job as "cancelled"."""
    max_frames = job["max_frames"]
    total = source.total
    if max_frames > 0 and (total < 0 or total > max_frames):
        total = max_frames
    frames, done, found, failure, stopped = [], 0, 0, None, False
    start = time.monotonic()
    try:
        for image, name in source:
            if should_stop():
                stopped = True
                break
            detections = detector.detect(image, job["conf"], job["iou"], job["agnostic"])
            entry = {"index": done, **({"file": name} if name else {}),
                     "width": image.shape[1], "height": image.shape[0],
                     "detections": [{"class_id": c,
                                     "class": COCO[c] if c < len(COCO) else "class_%d" % c,
                                     "confidence": round_half_up(p, 4),
                                     "box": {"x": round_half_up(x, 1), "y": round_half_up(y, 1),
                                             "w": round_half_up(w, 1), "h": round_half_up(h, 1)}}
                                    for c, p, x, y, w, h in detections]}
            frames.append(entry)
            done += 1
            found += len(detections)
            events.emit("progress", done=done, total=total)
            if 0 < max_frames <= done:
                break
    except WorkerError as e:
        if e.exit_code != 3:  # a model error is not the input's fault: no partial result
            raise
        failure = e  # a truncated video: keep what was read, then report the error
    elapsed = time.monotonic() - start
    fps = round_half_up(done / elapsed, 3) if elapsed > 0 else 0.0
    status = "error" if failure else ("cancelled" if stopped or stop_signal else "success")
    result = {"schema": 1, "worker": WORKER, "version": VERSION, "model": detector.path,
              "input": source.path, "input_kind": source.kind, "status": status}
    if failure:
        result["error"] = {"type": failure.type, "message": str(failure)}
    result.update(frames_processed=done, frames_total=total, size=detector.size,
                  conf=round_half_up(job["conf"], 4), iou=round_half_up(job["iou"], 4),
                  elapsed_s=round_half_up(elapsed, 4), fps=fps, detections=found, frames=frames)
    write_atomically(job["output"], result)
    if failure:
        raise failure
    events.emit("result", status=status, frames_processed=done, fps=fps, detections=found,
                output=job["output"])


def cancelled_result(events, job_id):
    """The answer to a job cancelled before it ran (maybe while another one runs)."""
    running, events.job = events.job, job_id
    events.emit("result", status="cancelled", frames_processed=0, fps=0.0, detections=0)
    events.job = running


# --- serve mode ----------------------------------------------------------------------------

class StdinLines:
    """Lines of stdin without blocking: select() on the fd, os.read what is there."""

    def __init__(self):
        self.fd, self.buffer, self.eof = sys.stdin.fileno(), b"", False

    def read(self, timeout):
        """The complete lines that arrived within `timeout` seconds (maybe none)."""
        if not self.eof and select.select([self.fd], [], [], timeout)[0]:
            chunk = os.read(self.fd, 65536)
            self.buffer += chunk
            self.eof = not chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        if self.eof and self.buffer:
            lines.append(self.buffer)  # the last line had no newline
            self.buffer = b""
        return [line.decode("utf-8", "replace") for line in lines]


def bad_job(message):
    return WorkerError("BadJob", message + ' (expected {"id":1,"input":"...","output":"...",'
                       '"max_frames":N})', 2)


def parse_job(line, args):
    job = {"max_frames": args.max_frames, "conf": args.conf, "iou": args.iou,
           "agnostic": args.agnostic}
    for key in ("input", "output"):
        if not isinstance(line.get(key), str) or not line[key]:
            raise bad_job('job field "%s" must be a non-empty string' % key)
        job[key] = line[key]
    if "max_frames" in line:
        k = line["max_frames"]
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise bad_job('job field "max_frames" must be a positive integer')
        job["max_frames"] = k
    for key in ("conf", "iou"):
        if key in line:
            v = line[key]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 1:
                raise bad_job('job field "%s" must be a number in [0, 1]' % key)
            job[key] = float(v)
    return job


class Server:
    def __init__(self, args, detector, events):
        self.args, self.detector, self.events = args, detector, events
        self.stdin = StdinLines()
        self.queue = collections.deque()  # job lines read but not started (parsed or an error)
        self.running = None  # the id of the running job
        self.cancel_running = False

    def take(self, lines):
        """Queues job lines; applies cancel lines at once."""
        for text in lines:
            if not text.strip():
                continue
            try:
                line = json.loads(text)
            except ValueError as e:
                self.queue.append(bad_job("cannot parse job line as JSON: %s" % e))
                continue
            if not (isinstance(line, dict) and "cancel" in line and "id" not in line):
                self.queue.append(line)
                continue
            target = line["cancel"]
            if self.running is not None and target == self.running:
                self.cancel_running = True
                continue
            for queued in self.queue:
                if isinstance(queued, dict) and queued.get("id") == target:
                    self.queue.remove(queued)
                    cancelled_result(self.events, target)
                    break

    def should_stop(self):
        self.take(self.stdin.read(0))
        return bool(stop_signal) or self.cancel_running

    def run(self):
        while not stop_signal:
            if not self.queue:
                if self.stdin.eof:
                    break
                self.take(self.stdin.read(0.2))  # short: a signal is noticed within 0.2 s
                continue
            self.handle(self.queue.popleft())
        return 128 + stop_signal if stop_signal else 0

    def handle(self, line):
        if isinstance(line, WorkerError):
            return self.events.error(line)
        if not isinstance(line, dict):
            return self.events.error(bad_job("a job line must be a JSON object"))
        if line.get("id") is None:
            return self.events.error(bad_job('job has no "id"'))
        self.events.job = self.running = line["id"]
        self.cancel_running = False
        try:
            job = parse_job(line, self.args)
            source = Frames(job["input"])
            check_output_writable(job["output"])
            run_job(job, source, self.detector, self.events, self.should_stop)
        except WorkerError as e:
            if e.exit_code == 4:  # the model is broken: no later job can succeed
                raise
            self.events.error(e)
        finally:
            self.events.job = self.running = None


# --- main ----------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):
        Events().error(WorkerError("BadArguments", "%s (run %s --help for usage)"
                                   % (message, WORKER), 2))
        sys.exit(2)


def parse_args():
    p = Parser(prog=WORKER, description="YOLOv8 detection over a video, an image or a folder "
               "of images (OpenCV DNN), speaking the harness protocol on stdout.")
    p.add_argument("--version", action="version", version="%s %s" % (WORKER, VERSION))
    p.add_argument("--model", required=True, help="ONNX model, YOLOv8 output [1,84,N]")
    p.add_argument("--input", help="video file, image file or folder of images")
    p.add_argument("--output", help="result JSON file (written atomically)")
    p.add_argument("--serve", action="store_true", help="load the model once, then read one "
                   'JSON job per stdin line: {"id":1,"input":"...","output":"...",'
                   '"max_frames":N}; {"cancel":1} cancels job 1; EOF ends')
    p.add_argument("--max-frames", type=int, default=-1, help="stop after N frames")
    p.add_argument("--size", type=int, default=640, help="network input size, a multiple of 32")
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold")
    p.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold")
    p.add_argument("--agnostic", action="store_true", help="class-agnostic NMS")
    p.add_argument("--threads", type=int, default=0, help="OpenCV threads (cv2.setNumThreads)")
    args = p.parse_args()
    if args.serve and (args.input or args.output):
        p.error("--input and --output are for one-shot runs, not --serve (jobs name them)")
    if not args.serve and not (args.input and args.output):
        p.error("--input and --output are required (or --serve)")
    if args.max_frames != -1 and args.max_frames < 1:
        p.error("--max-frames must be a positive number")
    if not 32 <= args.size <= 4096 or args.size % 32:
        p.error("--size must be a multiple of 32 in [32, 4096]")
    if not (0 <= args.conf <= 1 and 0 <= args.iou <= 1):
        p.error("--conf and --iou must be in [0, 1]")
    if args.threads and not 1 <= args.threads <= 1024:
        p.error("--threads must be in [1, 1024]")
    return args


def main():
    args = parse_args()
    if args.threads:
        cv2.setNumThreads(args.threads)
    events = Events()
    events.emit("started", worker=WORKER, version=VERSION, pid=os.getpid())
    try:
        source = None
        if not args.serve:  # check the cheap things before spending seconds on the model
            source = Frames(args.input)
            check_output_writable(args.output)
        start = time.monotonic()
        detector = Detector(args.model, args.size)
        events.emit("ready", load_ms=round((time.monotonic() - start) * 1000, 1),
                    read_ms=round(detector.read_ms, 1), warmup_ms=round(detector.warmup_ms, 1))
        if args.serve:
            return Server(args, detector, events).run()
        job = {"input": args.input, "output": args.output, "max_frames": args.max_frames,
               "conf": args.conf, "iou": args.iou, "agnostic": args.agnostic}
        run_job(job, source, detector, events, lambda: bool(stop_signal))
        return 128 + stop_signal if stop_signal else 0
    except WorkerError as e:
        events.error(e)
        return e.exit_code
    except Exception as e:  # one line, not a traceback: hosts grep stderr for "Traceback"
        events.error(WorkerError("InternalError", "%s: %s" % (type(e).__name__, e), 1))
        return 1


if __name__ == "__main__":
    sys.exit(main())
