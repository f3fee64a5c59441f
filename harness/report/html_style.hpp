#pragma once
// The stylesheet of report.html, inline in its <head>: readable on a phone and a desktop, tables
// scrolling sideways in their own box, charts scaling to their container.

namespace harness {

inline constexpr const char* kHtmlStyle = R"css(
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--alt:#f6f8fa}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;padding:12px;max-width:1100px}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.25em;margin:1.4em 0 .4em;
border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1.05em;margin:1em 0 .3em}
.meta{color:var(--muted);margin:.2em 0}
.tw{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.4em 0}
table{border-collapse:collapse;min-width:100%;font-size:.92em}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--alt)}td.n{text-align:right;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.8em;font-weight:600;
color:#fff;vertical-align:middle}
.pass{background:#1a7f37}.fail{background:#cf222e}.error{background:#9a6700}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:10px}
.chart{background:var(--alt);border:1px solid var(--line);border-radius:6px;max-width:640px;width:100%;
height:auto;display:block}
.chart text{font:13px system-ui,sans-serif;fill:#444}.chart .ct{font-size:15px;font-weight:600}
.chart .yt{text-anchor:end}.chart .xt,.chart .xl,.chart .yl{text-anchor:middle}
.chart .nd{text-anchor:middle;font-size:14px}.chart .grid{stroke:#e3e6ea}
.chart .axis{stroke:#888}.chart .mk{stroke-dasharray:4 3;stroke-width:1.5}
ul.failures li{color:#a40e26}code,pre{font:12.5px ui-monospace,Menlo,Consolas,monospace}
pre{background:var(--alt);border:1px solid var(--line);padding:8px;overflow-x:auto;
white-space:pre-wrap;word-break:break-all;max-height:24em}
details{margin:.3em 0}summary{cursor:pointer;color:var(--muted)}
.note{color:var(--muted);font-size:.9em}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px}
ul.tree,ul.tree ul{list-style:none;margin:.2em 0;padding-left:1.1em;border-left:1px solid var(--line)}
ul.tree li{margin:.15em 0}
@media (max-width:600px){body{padding:8px;font-size:14px}.charts{grid-template-columns:1fr}}
)css";

}  // namespace harness
