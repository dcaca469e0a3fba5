"""``switchyard demo``: the whole pipeline in one process, and its capability sections."""
