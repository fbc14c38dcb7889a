"""Search: the filter-string and order-by parser, and page tokens. Pure functions, no I/O."""
