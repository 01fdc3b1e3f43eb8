// Draws the benchmark as an SVG a person can read at a glance: one panel per figure and transport,
// one bar per bridge, the target as a dashed line. No dependencies: plain SVG text.

const COLORS = {
  'mcp-tether': '#1f9d55',
  'mcp-tether --verbose': '#8fd19e',
  'mcp-remote 0.15.1': '#8795a1',
  'supergateway 4.0.0': '#f6993f',
};

const METRICS = [
  { key: (r) => r.ratio.small50, title: 'small call p50, × of direct (lower is better)', target: 1.15, unit: (v) => `×${v.toFixed(2)}` },
  { key: (r) => r.ratio.tput16, title: '16 concurrent calls/s, × of direct (higher is better)', target: 0.9, unit: (v) => `×${v.toFixed(2)}` },
  { key: (r) => r.ratio.mib5, title: '5 MiB result p50, × of direct (lower is better)', target: 1.2, unit: (v) => `×${v.toFixed(2)}` },
  { key: (r) => r.idleRss / 1048576, title: 'idle RSS, MiB (lower is better)', target: 45, unit: (v) => `${v.toFixed(0)} MiB` },
  { key: (r) => r.spawn, title: 'spawn → initialize result, ms (lower is better)', target: undefined, unit: (v) => `${v.toFixed(0)} ms` },
];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderSvg(rows) {
  const panelW = 440;
  const barH = 18;
  const gap = 6;
  const labelW = 150;
  const kinds = ['http', 'sse'];
  const names = Object.keys(COLORS);
  const panelH = 34 + names.length * (barH + gap);
  const width = panelW * 2 + 30;
  const height = 60 + METRICS.length * (panelH + 16);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">mcp-tether vs mcp-remote vs supergateway (ratios against the direct SDK client, same run)</text>`,
    `<text x="10" y="42" fill="#555">left: Streamable HTTP · right: legacy SSE · dashed line: target</text>`,
  ];
  METRICS.forEach((m, mi) => {
    kinds.forEach((kind, ki) => {
      const x0 = 10 + ki * (panelW + 10);
      const y0 = 60 + mi * (panelH + 16);
      const bars = names
        .map((name) => ({ name, value: (() => { const r = rows.find((x) => x.kind === kind && x.name === name); return r ? m.key(r) : undefined; })() }))
        .filter((b) => b.value !== undefined && Number.isFinite(b.value));
      const max = Math.max(...bars.map((b) => b.value), m.target ?? 0) * 1.15 || 1;
      const plotW = panelW - labelW - 70;
      const scale = (v) => (v / max) * plotW;
      parts.push(`<rect x="${x0}" y="${y0}" width="${panelW}" height="${panelH}" fill="#f8fafc" stroke="#dae1e7"/>`);
      parts.push(`<text x="${x0 + 8}" y="${y0 + 18}" font-weight="bold">${esc(kind === 'http' ? 'HTTP' : 'SSE')}: ${esc(m.title)}</text>`);
      bars.forEach((b, i) => {
        const y = y0 + 30 + i * (barH + gap);
        parts.push(`<text x="${x0 + 8}" y="${y + 13}">${esc(b.name)}</text>`);
        parts.push(`<rect x="${x0 + labelW}" y="${y}" width="${Math.max(1, scale(b.value)).toFixed(1)}" height="${barH}" fill="${COLORS[b.name]}"/>`);
        parts.push(`<text x="${(x0 + labelW + scale(b.value) + 4).toFixed(1)}" y="${y + 13}">${esc(m.unit(b.value))}</text>`);
      });
      if (m.target !== undefined) {
        const tx = x0 + labelW + scale(m.target);
        parts.push(`<line x1="${tx.toFixed(1)}" y1="${y0 + 26}" x2="${tx.toFixed(1)}" y2="${y0 + panelH - 4}" stroke="#e3342f" stroke-dasharray="4 3"/>`);
      }
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
