"""Reading REGEN files: the streaming reader, loading with the Arrow cache, data info, user-disjoint splits."""
