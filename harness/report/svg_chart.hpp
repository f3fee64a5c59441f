#pragma once
// A small inline SVG chart for report.html: lines and/or dots against linear axes with nice
// ticks (whole numbers when every x is whole), a legend and vertical markers (the `ready`
// event, the knee). Scales to its container (viewBox,
// width 100%), needs no script or external resource. All text passes through html_escape.

#include <string>
#include <utility>
#include <vector>

namespace harness {

struct ChartSeries {
  std::string name;
  std::string color;                              // any CSS colour
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite points are skipped
  bool line = true;
  bool dots = false;
  bool dashed = false;
};

struct ChartMarker {
  double x = 0;
  std::string label;
  std::string color = "#888";
};

struct Chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ChartSeries> series;
  std::vector<ChartMarker> markers;
};

// "<svg ...>...</svg>"; an empty chart says "no data" instead of drawing axes.
std::string render_svg(const Chart& chart);

// Tick values covering [lo, hi] at a 1/2/5 x 10^n step, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace harness
