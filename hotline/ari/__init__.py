"""An asyncio-native ARI client: typed REST wrappers, typed events, a reconnecting event stream."""
