"""packet-eval."""
