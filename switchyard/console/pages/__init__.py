"""One router per console section."""
