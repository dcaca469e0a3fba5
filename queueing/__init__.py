"""What producers and workers share about Redis: keys, Lua scripts, lane pushes, job state."""
