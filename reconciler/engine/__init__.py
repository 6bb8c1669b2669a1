"""The apply layer: sessions over providers and stores, planning runs, applying, drift, recovery."""
