"""ML backends in pixel space: loading, presets, adapters per model family."""
