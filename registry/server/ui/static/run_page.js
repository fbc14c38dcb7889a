// Run page: one chart per metric, with the picker, x axis, smoothing and log scale controls.
ModelyardCharts.histories("metric-charts", "chart-data", "metric-charts-controls");
