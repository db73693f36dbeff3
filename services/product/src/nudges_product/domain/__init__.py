"""The product's rules as plain values and functions: no I/O, no framework."""
