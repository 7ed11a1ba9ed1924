"""Where downlinks live: the store interface, the memory store, queries, page cache."""
