// A map drawn by the page itself: Web Mercator projection of WGS-84 points into an SVG, the planned route as a
// polyline through the accounts in visit order, the actual check-ins as squares joined to their planned stop, labels.
// Map tiles are an optional layer (a {z}/{x}/{y} URL template from the server settings); without them the map still
// works offline.

const NS = "http://www.w3.org/2000/svg";
const W = 800, H = 500, PAD = 48;
const COLORS = { verified: "#1a7f37", out_of_range: "#c2410c", suspect: "#b91c1c" };

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function mercator(lat, lon) {
  const clamped = Math.max(-85.05, Math.min(85.05, lat));
  const s = Math.sin((clamped * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
}

export function drawMap(svg, stops, { tileUrl = null, title = "", empty = "" } = {}) {
  for (const child of [...svg.childNodes]) if (!["title", "desc"].includes(child.nodeName)) child.remove();
  svg.querySelector("title").textContent = title;
  const pts = [];
  for (const s of stops) {
    if (s.planned) pts.push(mercator(...s.planned));
    if (s.actual) pts.push(mercator(...s.actual));
  }
  svg.append(el("rect", { x: 0, y: 0, width: W, height: H, class: "map-bg" }));
  if (!pts.length) {
    svg.append(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "map-empty" }, empty));
    return;
  }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const minSpan = 0.00002; // ~800 m at the equator: a single stop is not drawn at street-corner zoom
  if (x1 - x0 < minSpan) { const c = (x0 + x1) / 2; x0 = c - minSpan / 2; x1 = c + minSpan / 2; }
  if (y1 - y0 < minSpan) { const c = (y0 + y1) / 2; y0 = c - minSpan / 2; y1 = c + minSpan / 2; }
  const scale = Math.min((W - 2 * PAD) / (x1 - x0), (H - 2 * PAD) / (y1 - y0));
  const ox = W / 2 - ((x0 + x1) / 2) * scale, oy = H / 2 - ((y0 + y1) / 2) * scale;
  const project = (lat, lon) => { const [x, y] = mercator(lat, lon); return [x * scale + ox, y * scale + oy]; };

  if (tileUrl) drawTiles(svg, scale, ox, oy, tileUrl);

  const grid = el("g", { class: "map-grid", "aria-hidden": "true" });
  for (let i = 1; i < 8; i++) grid.append(el("line", { x1: (W * i) / 8, y1: 0, x2: (W * i) / 8, y2: H }));
  for (let i = 1; i < 5; i++) grid.append(el("line", { x1: 0, y1: (H * i) / 5, x2: W, y2: (H * i) / 5 }));
  if (!tileUrl) svg.append(grid);

  const planned = stops.filter((s) => s.planned).map((s) => project(...s.planned));
  if (planned.length > 1) {
    svg.append(el("polyline", { points: planned.map((p) => p.join(",")).join(" "), class: "route" }));
  }
  const visited = stops.filter((s) => s.actual && s.at).sort((a, b) => a.at.localeCompare(b.at)).map((s) => project(...s.actual));
  if (visited.length > 1) {
    svg.append(el("polyline", { points: visited.map((p) => p.join(",")).join(" "), class: "actual-path" }));
  }
  const layer = el("g", { class: "stops" });
  for (const s of stops) {
    const g = el("g", { class: "stop", "data-stop": s.n });
    const label = s.label || "";
    if (s.planned) {
      const [x, y] = project(...s.planned);
      g.append(el("circle", { cx: x, cy: y, r: 11, class: "planned" }));
      g.append(el("text", { x, y: y + 4, "text-anchor": "middle", class: "stop-n" }, String(s.n)));
      const right = x > W * 0.6;
      g.append(el("text", { x: right ? x - 15 : x + 15, y: y - 10, "text-anchor": right ? "end" : "start", class: "stop-label" }, label));
    }
    if (s.actual) {
      const [ax, ay] = project(...s.actual);
      if (s.planned) {
        const [x, y] = project(...s.planned);
        g.append(el("line", { x1: x, y1: y, x2: ax, y2: ay, class: "deviation" }));
      }
      g.append(el("rect", { x: ax - 6, y: ay - 6, width: 12, height: 12, class: "actual", fill: COLORS[s.verdict] || "#1d4ed8",
                            "data-verdict": s.verdict || "" }));
    }
    layer.append(g);
  }
  svg.append(layer);
  drawScale(svg, scale, (y0 + y1) / 2);
}

// A scale bar of a round length near 120 px, for the map's middle latitude.
function drawScale(svg, scale, yMid) {
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * yMid))) * 180) / Math.PI;
  const pxPerMetre = scale / (40075016.686 * Math.cos((lat * Math.PI) / 180));
  const nice = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
  const metres = nice.find((m) => m * pxPerMetre >= 80) || nice[nice.length - 1];
  const len = metres * pxPerMetre;
  const g = el("g", { class: "scale" });
  g.append(el("line", { x1: 16, y1: H - 18, x2: 16 + len, y2: H - 18 }));
  g.append(el("text", { x: 16, y: H - 26 }, metres >= 1000 ? `${metres / 1000} km` : `${metres} m`));
  svg.append(g);
}

function drawTiles(svg, scale, ox, oy, template) {
  // World units [0,1] map to scale px; at zoom z the world is 256 * 2^z px, so pick z with tiles near 256 px.
  const z = Math.max(0, Math.min(19, Math.round(Math.log2(scale / 256))));
  const n = 2 ** z, size = scale / n;
  const tx0 = Math.floor(-ox / size), tx1 = Math.floor((W - ox) / size);
  const ty0 = Math.floor(-oy / size), ty1 = Math.floor((H - oy) / size);
  const g = el("g", { class: "tiles", "aria-hidden": "true" });
  for (let tx = tx0; tx <= tx1; tx++) {
    for (let ty = ty0; ty <= ty1; ty++) {
      if (ty < 0 || ty >= n) continue;
      const x = ((tx % n) + n) % n;
      const href = template.replace("{z}", z).replace("{x}", x).replace("{y}", ty);
      g.append(el("image", { href, x: tx * size + ox, y: ty * size + oy, width: size, height: size, preserveAspectRatio: "none" }));
    }
  }
  svg.append(g);
}
