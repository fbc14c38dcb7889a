"""Rules that span the store and the artifacts: stage transitions, lineage, safe sources."""
