"""Wire formats of the serving process: parse requests, shape responses; no model code."""
