// TLS Connections report: draws the inbound and outbound charts with uPlot from the page's
// <script type="application/json" id="report-data"> block (no inline script: the CSP forbids it).
'use strict';
(function () {
  const block = document.getElementById('report-data');
  if (!block || typeof uPlot === 'undefined') return;
  const data = JSON.parse(block.textContent || '{}');
  const SERIES = [
    ['requiredSuccess', 'Required TLS OK', '#1e7a3c'],
    ['requiredFailure', 'Required TLS failed', '#b3261e'],
    ['preferredSuccess', 'Preferred TLS OK', '#1f5fa8'],
    ['preferredFailure', 'Preferred TLS failed', '#e07b00'],
    ['plaintext', 'Plaintext', '#7a7f87'],
  ];
  function draw(direction) {
    const target = document.getElementById('chart-' + direction);
    const series = data[direction];
    if (!target || !series || !Array.isArray(series.time)) return;
    const width = Math.max(360, target.clientWidth || 560);
    const opts = {
      width: width,
      height: 260,
      series: [{}].concat(SERIES.map(function (s) { return { label: s[1], stroke: s[2], width: 2, points: { show: series.time.length < 50 } }; })),
      axes: [{}, { label: 'connections' }],
      scales: { x: { time: true } },
    };
    const columns = [series.time].concat(SERIES.map(function (s) { return series[s[0]] || series.time.map(function () { return 0; }); }));
    target.textContent = '';
    new uPlot(opts, columns, target);
  }
  draw('inbound');
  draw('outbound');
})();
