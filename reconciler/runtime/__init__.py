"""What one run shares across layers: the interrupt flag, parallelism slots, org locks, safe file writes."""
