// Run page: the metric history chart.
ModelyardCharts.history("metric-chart", "chart-data", "chart-controls");
