"""UN Comtrade: record schema, offline sample, parser to the lake (and the live client)."""
