"""Model importers: each converts a file into an edgecc `Graph`."""
