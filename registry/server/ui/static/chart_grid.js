// Chart grid of an experiment: one small chart per metric, one line per run, each chart
// fetched when it scrolls into view.
ModelyardCharts.lazyHistories("grid-charts", "grid-data", "grid-charts-controls");
