#include "harness/report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "harness/core/escape.hpp"

namespace harness {
namespace {

constexpr double kWidth = 640, kHeight = 300;
constexpr double kLeft = 62, kRight = 16, kTop = 40, kBottom = 46;

std::string tick_label(double v) {
  if (std::fabs(v) < 1e-9) return "0";
  return fmt::format("{:g}", v);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

namespace {

// The plotted area and the data range it shows; px/py map data to SVG coordinates.
struct Frame {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_hi = 0, y_top = 1;
  bool any = false, x_integral = true;
  double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  double px(double x) const { return kLeft + (x - x_lo) / (x_hi - x_lo) * pw; }
  double py(double y) const { return kTop + ph - y / y_top * ph; }
};

Frame data_range(const Chart& chart) {
  Frame f;
  for (const auto& s : chart.series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      f.any = true;
      f.x_integral = f.x_integral && x == std::floor(x);
      f.x_lo = std::min(f.x_lo, x);
      f.x_hi = std::max(f.x_hi, x);
      f.y_hi = std::max(f.y_hi, y);
    }
  }
  for (const auto& m : chart.markers) {
    if (!f.any || !std::isfinite(m.x)) continue;
    f.x_lo = std::min(f.x_lo, m.x);
    f.x_hi = std::max(f.x_hi, m.x);
  }
  if (f.x_hi <= f.x_lo) {  // one x value: give it some room
    f.x_lo -= 1;
    f.x_hi += 1;
  }
  if (f.y_hi <= 0) f.y_hi = 1;
  return f;
}

void draw_axes(std::string& out, Frame& f, const Chart& chart) {
  const auto y_ticks = nice_ticks(0, f.y_hi * 1.05);
  f.y_top = std::max(y_ticks.back(), f.y_hi);
  auto x_ticks = nice_ticks(f.x_lo, f.x_hi, 6);
  // Counts (instances) get whole-number ticks: a 0.5 step would label "1.5 workers".
  if (f.x_integral && x_ticks.size() > 1 && x_ticks[1] - x_ticks[0] < 1) {
    x_ticks.clear();
    for (double t = std::ceil(f.x_lo); t <= f.x_hi; t += 1) x_ticks.push_back(t);
  }
  for (double t : y_ticks) {
    out += fmt::format(R"(<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}" class="grid"/>)",
                       kLeft, kLeft + f.pw, f.py(t), f.py(t));
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="yt">{}</text>)", kLeft - 6,
                       f.py(t) + 4, tick_label(t));
  }
  for (double t : x_ticks) {
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xt">{}</text>)", f.px(t),
                       kTop + f.ph + 16, tick_label(t));
  }
  out += fmt::format(R"(<line x1="{0:.1f}" x2="{1:.1f}" y1="{2:.1f}" y2="{2:.1f}" class="axis"/>)",
                     kLeft, kLeft + f.pw, kTop + f.ph);
  out += fmt::format(R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" class="axis"/>)",
                     kLeft, kTop, kTop + f.ph);
  out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="xl">{}</text>)", kLeft + f.pw / 2,
                     kHeight - 6, html_escape(chart.x_label));
  out += fmt::format(
      R"svg(<text transform="translate(14 {:.1f}) rotate(-90)" class="yl">{}</text>)svg",
      kTop + f.ph / 2, html_escape(chart.y_label));
}

void draw_markers(std::string& out, const Frame& f, const Chart& chart) {
  for (const auto& m : chart.markers) {
    if (!std::isfinite(m.x)) continue;
    out += fmt::format(
        R"(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1:.1f}" y2="{2:.1f}" stroke="{3}" class="mk"/>)",
        f.px(m.x), kTop, kTop + f.ph, html_escape(m.color));
    out += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" class="ml" fill="{}">{}</text>)",
                       f.px(m.x) + 3, kTop + 10, html_escape(m.color), html_escape(m.label));
  }
}

void draw_series(std::string& out, const Frame& f, const Chart& chart) {
  double legend_x = kLeft;
  for (const auto& s : chart.series) {
    const std::string color = html_escape(s.color);
    if (s.line) {
      std::string pts;
      for (const auto& [x, y] : s.points) {
        if (std::isfinite(x) && std::isfinite(y))
          pts += fmt::format("{:.1f},{:.1f} ", f.px(x), f.py(y));
      }
      out += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{}/>)",
                         pts, color, s.dashed ? R"( stroke-dasharray="6 4")" : "");
    }
    if (s.dots) {
      for (const auto& [x, y] : s.points) {
        if (std::isfinite(x) && std::isfinite(y)) {
          out += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2.5" fill="{}"/>)", f.px(x),
                             f.py(y), color);
        }
      }
    }
    out += fmt::format(R"(<rect x="{:.1f}" y="24" width="12" height="4" fill="{}"/>)", legend_x,
                       color);
    out += fmt::format(R"(<text x="{:.1f}" y="30" class="lg">{}</text>)", legend_x + 16,
                       html_escape(s.name));
    legend_x += 28 + 7.0 * static_cast<double>(s.name.size());
  }
}

}  // namespace

std::string render_svg(const Chart& chart) {
  std::string out = fmt::format(
      R"(<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">)",
      kWidth, kHeight);
  out += fmt::format(R"(<title>{}</title>)", html_escape(chart.title));
  out +=
      fmt::format(R"(<text x="{}" y="16" class="ct">{}</text>)", kLeft, html_escape(chart.title));
  Frame f = data_range(chart);
  if (!f.any) {
    out += fmt::format(R"(<text x="{}" y="{}" class="nd">no data</text></svg>)", kWidth / 2,
                       kHeight / 2);
    return out;
  }
  draw_axes(out, f, chart);
  draw_markers(out, f, chart);
  draw_series(out, f, chart);
  out += "</svg>";
  return out;
}

}  // namespace harness
