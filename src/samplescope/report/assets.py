"""The audit report's stylesheet and script, embedded in the page (no network, no CDN).

The script renders the sample table from the page's JSON (``<script id="data">``): click a
header to sort (again to reverse), type in the filter box to keep rows containing the text
in any cell, tick "flagged only" to keep ``is_label_issue`` rows. The state can also be given in the
address, e.g. ``report.html#filter=seven&flagged=1&sort=gen_error:desc`` (shareable views;
the browser test uses it).
"""

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1180px;padding:0 16px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #ddd}
.desc{color:#555;margin:0 0 12px}.note{color:#8a5a00;background:#fff7e0;padding:6px 10px;
border-radius:4px}
.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{background:#f3f6fa;border-radius:6px;
padding:10px 16px;min-width:150px}.kpi .v{font-size:20px;font-weight:600}.kpi .k{color:#555;
font-size:12px}
table.plain{border-collapse:collapse;font-size:13px}table.plain th,table.plain td{padding:3px 8px;
border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
table.plain th{background:#f7f7f7;position:sticky;top:0;cursor:pointer;user-select:none}
table.plain th.asc::after{content:" \\25B2"}table.plain th.desc::after{content:" \\25BC"}
tr.flag td{background:#fff0ee}
.gallery{display:flex;flex-wrap:wrap;gap:10px}.card{width:120px;border:1px solid #ddd;
border-radius:6px;padding:6px;text-align:center;font-size:11px}.card img{width:96px;
height:96px;image-rendering:pixelated}.cap{margin-top:4px}
table.feat{font-size:10px;margin:0 auto}table.feat td{padding:0 3px;text-align:left}
.figs{display:flex;flex-wrap:wrap;gap:18px}figure{margin:0}figure img{max-width:540px}
figcaption{color:#555;font-size:12px;text-align:center}
.controls{display:flex;gap:14px;align-items:center;margin-bottom:8px}
#filter{padding:4px 8px;width:260px}.scroll{max-height:620px;overflow:auto;border:1px solid #eee}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var payload = JSON.parse(document.getElementById("data").textContent);
  var cols = payload.columns, rows = payload.rows;
  var table = document.getElementById("samples");
  var thead = table.querySelector("thead"), tbody = table.querySelector("tbody");
  var filter = document.getElementById("filter"), flagged = document.getElementById("flagged");
  var count = document.getElementById("count");
  var flagCol = cols.indexOf("is_label_issue");
  var sortCol = -1, sortDir = 1;
  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(4);
    return String(v);
  }
  var head = document.createElement("tr");
  cols.forEach(function (c, i) {
    var th = document.createElement("th");
    th.textContent = c;
    th.dataset.col = String(i);
    th.addEventListener("click", function () {
      sortDir = sortCol === i ? -sortDir : 1;
      sortCol = i;
      Array.prototype.forEach.call(head.children, function (h) { h.className = ""; });
      th.className = sortDir > 0 ? "asc" : "desc";
      render();
    });
    head.appendChild(th);
  });
  thead.appendChild(head);
  function compare(a, b) {
    var x = a[sortCol], y = b[sortCol];
    if (x === y) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === "number" && typeof y === "number") return sortDir * (x - y);
    return sortDir * String(x).localeCompare(String(y));
  }
  function render() {
    var text = filter.value.trim().toLowerCase();
    var shown = rows.filter(function (r) {
      if (flagged.checked && flagCol >= 0 && !r[flagCol]) return false;
      if (!text) return true;
      return r.some(function (v) { return fmt(v).toLowerCase().indexOf(text) >= 0; });
    });
    if (sortCol >= 0) shown = shown.slice().sort(compare);
    var frag = document.createDocumentFragment();
    shown.forEach(function (r) {
      var tr = document.createElement("tr");
      if (flagCol >= 0 && r[flagCol]) tr.className = "flag";
      r.forEach(function (v) {
        var td = document.createElement("td");
        td.textContent = fmt(v);
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    tbody.innerHTML = "";
    tbody.appendChild(frag);
    count.textContent = shown.length + " of " + rows.length + " rows";
    table.dataset.shown = String(shown.length);
  }
  function fromHash() {
    var h = decodeURIComponent((window.location.hash || "").replace(/^#/, ""));
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("="), k = kv.slice(0, i), v = kv.slice(i + 1);
      if (k === "filter") filter.value = v;
      if (k === "flagged") flagged.checked = v === "1";
      if (k === "sort") {
        var p = v.split(":"), c = cols.indexOf(p[0]);
        if (c >= 0) {
          sortCol = c;
          sortDir = p[1] === "desc" ? -1 : 1;
          head.children[c].className = sortDir > 0 ? "asc" : "desc";
        }
      }
    });
  }
  filter.addEventListener("input", render);
  flagged.addEventListener("change", render);
  window.addEventListener("hashchange", function () { fromHash(); render(); });
  fromHash();
  render();
  document.body.dataset.ready = "1";
})();
"""
